// What `audit verify` reads from a SQLite store file.

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/audit/internal/rows.h"
#include "service/audit/internal/schema.h"
#include "service/audit/internal/sqlite.h"
#include "service/audit/internal/trail_source.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

class SqliteTrail final : public TrailSource {
 public:
  SqliteTrail(sqlite3* db, int version) : db_(db), version_(version) {}
  ~SqliteTrail() override {
    Exec(db_, "COMMIT").IgnoreError();
    sqlite3_close(db_);
  }

  absl::Status ForEachRuleSet(const RuleSetFn& each) override {
    Statement rows(db_,
                   "SELECT digest, id, version, content FROM rule_sets"
                   " ORDER BY first_recorded_micros, digest");
    int step;
    while ((step = rows.Step()) == SQLITE_ROW) {
      each(rows.Bytes(0), rows.Bytes(1), rows.Bytes(2), rows.Bytes(3));
    }
    return Done(rows, step);
  }

  absl::StatusOr<std::optional<std::pair<int64_t, std::string>>> Head(
      bool feedback) override {
    Statement head(db_, feedback
                            ? "SELECT sequence, hash FROM feedback_head"
                              " WHERE id = 1"
                            : "SELECT sequence, hash FROM head WHERE id = 1");
    const int step = head.Step();
    if (step == SQLITE_ROW) {
      return std::make_optional(std::make_pair(head.Int(0), head.Bytes(1)));
    }
    RETURN_IF_ERROR(Done(head, step));
    return std::nullopt;
  }

  absl::Status ForEachDecision(
      const std::function<bool(const DecisionRecord&)>& each) override {
    Statement rows(db_, absl::StrCat("SELECT ", DecisionColumns(version_),
                                     " FROM decisions ORDER BY sequence")
                            .c_str());
    int step;
    while ((step = rows.Step()) == SQLITE_ROW) {
      if (!each(ReadDecision(rows))) return absl::OkStatus();
    }
    return Done(rows, step);
  }

  bool has_feedback() const override { return version_ >= 4; }

  absl::Status ForEachFeedback(
      const std::function<bool(const FeedbackRecord&, bool)>& each) override {
    Statement rows(db_, absl::StrCat("SELECT ", kFeedbackColumns,
                                     ", EXISTS (SELECT 1 FROM decisions d"
                                     " WHERE d.decision_id ="
                                     " feedback.decision_id)"
                                     " FROM feedback ORDER BY sequence")
                            .c_str());
    int step;
    while ((step = rows.Step()) == SQLITE_ROW) {
      if (!each(ReadFeedback(rows), rows.Int(15) != 0)) {
        return absl::OkStatus();
      }
    }
    return Done(rows, step);
  }

 private:
  static absl::Status Done(Statement& rows, int step) {
    if (step == SQLITE_DONE) return absl::OkStatus();
    return absl::DataLossError(rows.Error());
  }

  sqlite3* const db_;
  const int version_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TrailSource>> OpenSqliteTrail(
    const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    return absl::NotFoundError(
        absl::StrCat("cannot open audit store ", path, ": ",
                     raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  ASSIGN_OR_RETURN(const int version, CheckReadable(db.get(), path));
  // One read transaction: every read below sees the same commit.
  RETURN_IF_ERROR(Exec(db.get(), "BEGIN"));
  return std::make_unique<SqliteTrail>(db.release(), version);
}

}  // namespace reconnect::service::audit_internal
