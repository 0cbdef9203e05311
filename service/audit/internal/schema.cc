#include "service/audit/internal/schema.h"

#include "absl/strings/str_cat.h"
#include "service/audit/internal/sqlite.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

// Version 0 (a new file) to 1.
absl::Status MigrateTo1(sqlite3* db) {
  return Exec(db,
              "BEGIN IMMEDIATE;"
              "CREATE TABLE decisions("
              "  sequence INTEGER PRIMARY KEY,"
              "  decision_id TEXT NOT NULL UNIQUE,"
              "  time_micros INTEGER NOT NULL,"
              "  calling_system TEXT NOT NULL,"
              "  caller TEXT NOT NULL,"
              "  rule_set_digest TEXT NOT NULL,"
              "  assessment BLOB NOT NULL,"
              "  recommendation BLOB NOT NULL,"
              "  prev_hash BLOB NOT NULL,"
              "  hash BLOB NOT NULL);"
              "CREATE INDEX decisions_by_time ON decisions(time_micros);"
              "CREATE INDEX decisions_by_rule_set"
              "  ON decisions(rule_set_digest, time_micros);"
              "CREATE INDEX decisions_by_system"
              "  ON decisions(calling_system, time_micros);"
              "CREATE TABLE rule_sets("
              "  digest TEXT PRIMARY KEY,"
              "  id TEXT NOT NULL,"
              "  version TEXT NOT NULL,"
              "  content TEXT NOT NULL,"
              "  first_recorded_micros INTEGER NOT NULL);"
              // The chain head as of the last commit: truncating the trail
              // leaves it pointing past the end.
              "CREATE TABLE head("
              "  id INTEGER PRIMARY KEY CHECK (id = 1),"
              "  sequence INTEGER NOT NULL,"
              "  hash BLOB NOT NULL);"
              "INSERT INTO head VALUES (1, 0, zeroblob(32));"
              // Written while the store is unhealthy, to learn when writing
              // works again.
              "CREATE TABLE probe(id INTEGER PRIMARY KEY, at INTEGER);"
              "PRAGMA user_version = 1;"
              "COMMIT;");
}

}  // namespace

absl::Status Migrate(sqlite3* db, const std::string& path) {
  Statement version(db, "PRAGMA user_version");
  if (version.Step() != SQLITE_ROW) {
    return absl::UnavailableError(
        absl::StrCat("audit store ", path, ": ", version.Error()));
  }
  const int64_t have = version.Int(0);
  if (have > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("audit store ", path, " has schema version ", have,
                     ", newer than this binary's (", kSchemaVersion,
                     "); use a newer reconnect"));
  }
  if (have == kSchemaVersion) return absl::OkStatus();
  // Each step in its own transaction, so that a failure leaves a file of
  // the version before it.
  if (have < 1) RETURN_IF_ERROR(MigrateTo1(db));
  if (have < 2) {
    RETURN_IF_ERROR(Exec(db,
                         "BEGIN IMMEDIATE;"
                         "CREATE INDEX IF NOT EXISTS decisions_by_caller"
                         "  ON decisions(caller, time_micros);"
                         "PRAGMA user_version = 2;"
                         "COMMIT;"));
  }
  // Records before it have an empty context, which their hashes do not
  // cover (chain.h), so they verify as they did.
  return Exec(db,
              "BEGIN IMMEDIATE;"
              "ALTER TABLE decisions ADD COLUMN context TEXT NOT NULL"
              "  DEFAULT '';"
              "PRAGMA user_version = 3;"
              "COMMIT;");
}

absl::StatusOr<int> CheckReadable(sqlite3* db, const std::string& path) {
  Statement version(db, "PRAGMA user_version");
  if (version.Step() != SQLITE_ROW || version.Int(0) < kOldestReadableVersion ||
      version.Int(0) > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not an audit store of schema version ",
                     kOldestReadableVersion, " to ", kSchemaVersion));
  }
  return static_cast<int>(version.Int(0));
}

}  // namespace reconnect::service::audit_internal
