#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_SQLITE_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_SQLITE_H_

// What every part of the SQLite audit store uses: prepared statements, the
// decisions row, and running SQL.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "service/audit/audit_store.h"
#include "service/audit/internal/rows.h"

namespace reconnect::service::audit_internal {

// A prepared statement, finalised on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Statement& Bind(int i, int64_t v) {
    if (ok()) rc_ = sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& BindText(int i, const std::string& v) {
    if (ok()) {
      rc_ = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                              SQLITE_TRANSIENT);
    }
    return *this;
  }
  Statement& BindBlob(int i, const std::string& v) {
    if (ok()) {
      rc_ = sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                              SQLITE_TRANSIENT);
    }
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return ok() ? sqlite3_step(stmt_) : rc_; }
  // Readies the statement to run again with new bindings.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  // SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB, ...
  int Type(int col) { return sqlite3_column_type(stmt_, col); }
  int Columns() { return sqlite3_column_count(stmt_); }
  std::string Bytes(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string()
                        : std::string(static_cast<const char*>(p),
                                      static_cast<size_t>(n));
  }
  std::string Error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// The columns of a decisions row, as ReadDecision reads them, in a store of
// schema `version` (before 3, the context is empty; before 5, the patient
// HMAC; before 9, every row is held as is).
inline std::string DecisionColumns(int version) {
  return std::string(
             "sequence, decision_id, time_micros, calling_system, caller,"
             " rule_set_digest, assessment, recommendation, prev_hash, "
             "hash, ") +
         (version >= 3 ? "context" : "''") +
         (version >= 5 ? ", patient_hmac" : ", ''") +
         (version >= 9 ? ", packing" : ", 0");
}

// Binds an event's columns after the sequence (?1 to ?7).
void BindRuleSetEvent(Statement& insert, const RuleSetEvent& e);

// Runs `sql` (one or more statements); UNAVAILABLE with SQLite's message.
absl::Status Exec(sqlite3* db, const std::string& sql);

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_SQLITE_H_
