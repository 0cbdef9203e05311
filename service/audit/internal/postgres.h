#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_H_

// What every part of the PostgreSQL audit store uses: a libpq connection,
// statements with parameters, and their results read as rows.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reconnect::service::audit_internal {

// OK when `uri` is a libpq connection URI that holds no password (the
// password comes from PGPASSWORD or a password file, never a flag);
// INVALID_ARGUMENT naming what is wrong otherwise.
absl::Status CheckPostgresUri(const std::string& uri);

// "HEAD VALUES ($1, ..., $k), ..., (...)TAIL" for `rows` rows of `per_row`
// parameters: many rows in one statement (PostgreSQL takes at most 65,535
// parameters in one).
std::string MultiRowInsert(const std::string& head, int per_row, size_t rows,
                           const std::string& tail = "");
// Rows per INSERT the store writes: well under that limit.
inline constexpr size_t kPgRowsPerInsert = 1000;

// A query's result, read in binary: integers as Int, text and bytea as
// Bytes.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  int64_t Int(int row, int col) const;
  std::string Bytes(int row, int col) const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

// One row of a result, as the row readers (rows.h) read it.
class PgRow {
 public:
  PgRow(const PgResult& result, int row) : result_(result), row_(row) {}
  int64_t Int(int col) const { return result_.Int(row_, col); }
  std::string Bytes(int col) const { return result_.Bytes(row_, col); }

 private:
  const PgResult& result_;
  const int row_;
};

// A statement's parameters, $1 on, in the order added.
class PgParams {
 public:
  PgParams& Int(int64_t v);
  PgParams& Text(std::string v);
  PgParams& Bytes(std::string v);  // bytea, sent in binary
  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class PgConnection;
  std::vector<std::string> values_;
  std::vector<Oid> types_;
  std::vector<int> formats_;
};

// One connection. Used by one thread at a time.
class PgConnection {
 public:
  // Connects to `uri` (checked by CheckPostgresUri); UNAVAILABLE naming the
  // server's reason when it cannot.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Open(
      const std::string& uri);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with `params`; UNAVAILABLE with the server's message
  // when it fails.
  absl::StatusOr<PgResult> Query(const std::string& sql,
                                 const PgParams& params = PgParams());
  // Runs one or more statements without parameters.
  absl::Status Exec(const std::string& sql);

  // Statements sent together and answered together: one round trip for
  // all of them (libpq's pipeline mode).
  struct Statement {
    std::string sql;
    PgParams params;
  };
  struct PipelineResult {
    std::vector<PgResult> results;  // one per statement run, in order
    absl::Status status;            // the first failure, or OK
    int failed = -1;                // which statement failed, or -1
  };
  // Runs `statements` in order in one round trip; after a failure the rest
  // are not run.
  PipelineResult Pipeline(const std::vector<Statement>& statements);
  // Whether the connection is still up: false once the server went away,
  // or said it is ending the session (SQLSTATE 57P01 when its backend is
  // terminated, 57P02 and 57P03 when shutting down or starting; class 08),
  // which libpq may not have noticed yet.
  bool up() const { return !ending_ && PQstatus(conn_) == CONNECTION_OK; }
  // The SQLSTATE of the last failure ("40P01": a deadlock), or "".
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  absl::Status Failed(PGresult* result);
  // Leaves pipeline mode, or marks the connection as ending when it cannot.
  void LeavePipeline();

  PGconn* const conn_;
  std::string last_sqlstate_;
  bool ending_ = false;
};

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_POSTGRES_H_
