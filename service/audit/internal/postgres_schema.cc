#include "service/audit/internal/postgres_schema.h"

#include "absl/strings/str_cat.h"
#include "service/audit/internal/rows.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

// The key of the advisory lock that migrations hold: a constant of this
// project's, which the database's other users are unlikely to take.
constexpr char kMigrationLock[] = "7377019265636e6e";

// Version 0 (an empty database) to 1: the tables of SQLite's schema 8, with
// PostgreSQL's types. Both chains' heads are rows that each group commit
// locks (postgres_store.h): they serialise the replicas' commits.
constexpr char kSchema1[] =
    "CREATE TABLE decisions("
    "  sequence bigint PRIMARY KEY,"
    "  decision_id text NOT NULL UNIQUE,"
    "  time_micros bigint NOT NULL,"
    "  calling_system text NOT NULL,"
    "  caller text NOT NULL,"
    "  rule_set_digest text NOT NULL,"
    "  assessment bytea NOT NULL,"
    "  recommendation bytea NOT NULL,"
    "  prev_hash bytea NOT NULL,"
    "  hash bytea NOT NULL,"
    "  context text NOT NULL,"
    "  patient_hmac text NOT NULL);"
    "CREATE INDEX decisions_by_time ON decisions(time_micros);"
    "CREATE INDEX decisions_by_rule_set ON decisions(rule_set_digest,"
    "  time_micros);"
    "CREATE INDEX decisions_by_system ON decisions(calling_system,"
    "  time_micros);"
    "CREATE INDEX decisions_by_caller ON decisions(caller, time_micros);"
    "CREATE INDEX decisions_by_patient ON decisions(patient_hmac,"
    "  time_micros) WHERE patient_hmac <> '';"
    "CREATE TABLE rule_sets("
    "  digest text PRIMARY KEY,"
    "  id text NOT NULL,"
    "  version text NOT NULL,"
    "  content text NOT NULL,"
    "  first_recorded_micros bigint NOT NULL);"
    "CREATE TABLE head("
    "  id integer PRIMARY KEY CHECK (id = 1),"
    "  sequence bigint NOT NULL,"
    "  hash bytea NOT NULL);"
    "INSERT INTO head VALUES (1, 0, decode(repeat('00', 32), 'hex'));"
    "CREATE TABLE probe(id integer PRIMARY KEY, at bigint);"
    "CREATE TABLE cards("
    "  card_uuid text PRIMARY KEY,"
    "  decision_id text NOT NULL,"
    "  service text NOT NULL,"
    "  item text NOT NULL,"
    "  rule_ids text NOT NULL,"
    "  suggestions text NOT NULL);"
    "CREATE TABLE feedback("
    "  sequence bigint PRIMARY KEY,"
    "  time_micros bigint NOT NULL,"
    "  caller text NOT NULL,"
    "  service text NOT NULL,"
    "  card_uuid text NOT NULL,"
    "  outcome text NOT NULL,"
    "  outcome_time text NOT NULL,"
    "  accepted_suggestions text NOT NULL,"
    "  override_reason text NOT NULL,"
    "  decision_id text NOT NULL,"
    "  card_item text NOT NULL,"
    "  rule_ids text NOT NULL,"
    "  rule_set_digest text NOT NULL,"
    "  prev_hash bytea NOT NULL,"
    "  hash bytea NOT NULL,"
    "  UNIQUE (card_uuid, outcome, outcome_time));"
    "CREATE INDEX feedback_by_decision ON feedback(decision_id);"
    "CREATE INDEX feedback_by_time ON feedback(time_micros);"
    "CREATE TABLE feedback_head("
    "  id integer PRIMARY KEY CHECK (id = 1),"
    "  sequence bigint NOT NULL,"
    "  hash bytea NOT NULL);"
    "INSERT INTO feedback_head VALUES (1, 0, decode(repeat('00', 32), 'hex'));"
    "CREATE TABLE decision_daily("
    "  day bigint NOT NULL,"
    "  rule_set_digest text NOT NULL,"
    "  calling_system text NOT NULL,"
    "  count bigint NOT NULL,"
    "  PRIMARY KEY (day, rule_set_digest, calling_system));"
    "CREATE TABLE rule_daily("
    "  day bigint NOT NULL,"
    "  rule_set_digest text NOT NULL,"
    "  rule_id text NOT NULL,"
    "  holder text NOT NULL,"
    "  count bigint NOT NULL,"
    "  PRIMARY KEY (day, rule_set_digest, rule_id, holder));"
    "CREATE TABLE feedback_daily("
    "  day bigint NOT NULL,"
    "  rule_set_digest text NOT NULL,"
    "  rule_id text NOT NULL,"
    "  outcome text NOT NULL,"
    "  reason text NOT NULL,"
    "  display text NOT NULL,"
    "  count bigint NOT NULL,"
    "  PRIMARY KEY (day, rule_set_digest, rule_id, outcome, reason));"
    "CREATE TABLE rule_set_events("
    "  sequence bigserial PRIMARY KEY,"
    "  time_micros bigint NOT NULL,"
    "  action text NOT NULL,"
    "  who text NOT NULL,"
    "  refused text NOT NULL,"
    "  active_digest text NOT NULL,"
    "  loaded_digests text NOT NULL,"
    "  refusals text NOT NULL);"
    "CREATE TABLE rule_set_signatures("
    "  digest text NOT NULL,"
    "  role text NOT NULL,"
    "  signer text NOT NULL,"
    "  signed_at text NOT NULL,"
    "  key_id text NOT NULL,"
    "  algorithm text NOT NULL,"
    "  jws text NOT NULL,"
    "  first_recorded_micros bigint NOT NULL,"
    "  PRIMARY KEY (digest, jws));";

absl::StatusOr<int> SchemaVersion(PgConnection& db) {
  ASSIGN_OR_RETURN(PgResult exists,
                   db.Query("SELECT to_regclass('audit_schema') IS NOT NULL"
                            "::int4"));
  if (exists.Int(0, 0) == 0) return 0;
  ASSIGN_OR_RETURN(PgResult version,
                   db.Query("SELECT version FROM audit_schema WHERE id = 1"));
  return version.rows() == 1 ? static_cast<int>(version.Int(0, 0)) : 0;
}

}  // namespace

absl::Status MigratePostgres(PgConnection& db) {
  RETURN_IF_ERROR(db.Exec(absl::StrCat(
      "BEGIN; SELECT pg_advisory_xact_lock(x'", kMigrationLock,
      "'::bigint);"
      "CREATE TABLE IF NOT EXISTS audit_schema("
      "  id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL);")));
  absl::StatusOr<int> have = SchemaVersion(db);
  absl::Status status = have.status();
  if (status.ok() && *have > kPostgresSchemaVersion) {
    status = absl::FailedPreconditionError(
        absl::StrCat("the PostgreSQL audit store has schema version ", *have,
                     ", newer than this binary's (", kPostgresSchemaVersion,
                     "); use a newer reconnect"));
  }
  // All steps in the transaction that holds the lock: PostgreSQL's DDL is
  // transactional, so a failure leaves the schema as it was.
  if (status.ok() && *have < 1) {
    status = db.Exec(
        absl::StrCat(kSchema1, "INSERT INTO audit_schema VALUES (1, 1);"));
  }
  if (status.ok() && *have < 2) {
    // New values only; a server built without lz4 keeps pglz (the
    // savepoint undoes just this).
    status = db.Exec(
        "SAVEPOINT lz4;"
        "ALTER TABLE decisions ALTER COLUMN assessment SET COMPRESSION lz4,"
        "  ALTER COLUMN recommendation SET COMPRESSION lz4;"
        "RELEASE lz4;");
    if (!status.ok() && db.last_sqlstate() == "0A000") {
      status = db.Exec("ROLLBACK TO SAVEPOINT lz4; RELEASE lz4;");
    }
    if (status.ok()) {
      status = db.Exec("UPDATE audit_schema SET version = 2 WHERE id = 1");
    }
  }
  if (status.ok() && *have < 3) {
    // The rows already stored stay as they are (0). Packed values are
    // small and do not compress further, so the server stores them as
    // they come.
    status = db.Exec(
        "ALTER TABLE decisions ADD COLUMN packing integer NOT NULL DEFAULT 0;"
        "UPDATE audit_schema SET version = 3 WHERE id = 1");
  }
  if (!status.ok()) {
    db.Exec("ROLLBACK").IgnoreError();
    return status;
  }
  return db.Exec("COMMIT");
}

absl::StatusOr<int> CheckPostgresReadable(PgConnection& db) {
  ASSIGN_OR_RETURN(const int version, SchemaVersion(db));
  if (version < 1 || version > kPostgresSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the PostgreSQL database is not an audit store of schema version 1 "
        "to ",
        kPostgresSchemaVersion,
        version == 0 ? " (it has no audit_schema table; `reconnect serve "
                       "--audit URI` creates one)"
                     : ""));
  }
  return version;
}

std::string PostgresDecisionColumns(int version) {
  std::string columns = kDecisionColumns;
  if (version < 3) {
    columns.replace(columns.find(", packing"), std::string(", packing").size(),
                    ", 0");
  }
  return columns;
}

}  // namespace reconnect::service::audit_internal
