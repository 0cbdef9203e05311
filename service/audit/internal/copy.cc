// `reconnect audit copy`: a SQLite trail into PostgreSQL, verified there.

#include "service/audit/copy.h"

#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "service/audit/internal/postgres.h"
#include "service/audit/internal/postgres_schema.h"
#include "service/audit/internal/rows.h"
#include "service/audit/internal/schema.h"
#include "service/audit/internal/sqlite.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

using audit_internal::PgConnection;
using audit_internal::PgParams;
using audit_internal::PgResult;
using audit_internal::Statement;

// Rows per INSERT while copying.
constexpr int kRowsPerInsert = 200;

// The tables copied as they are, with their columns: the same names in
// both stores. The chain heads are set afterwards; the probe row is not
// part of the trail.
struct Table {
  const char* name;
  std::string columns;
};

std::vector<Table> CopiedTables() {
  return {
      {"rule_sets", "digest, id, version, content, first_recorded_micros"},
      {"decisions", audit_internal::kDecisionColumns},
      {"cards", "card_uuid, decision_id, service, item, rule_ids, suggestions"},
      {"feedback", audit_internal::kFeedbackColumns},
      {"decision_daily", "day, rule_set_digest, calling_system, count"},
      {"rule_daily", "day, rule_set_digest, rule_id, holder, count"},
      {"feedback_daily",
       "day, rule_set_digest, rule_id, outcome, reason, display, count"},
      {"rule_set_events", audit_internal::kRuleSetEventColumns},
      {"rule_set_signatures",
       absl::StrCat("digest, ", audit_internal::kSignatureColumns,
                    ", first_recorded_micros")},
  };
}

// Adds column `col` of the current row as a parameter of its own type.
void AddValue(Statement& row, int col, PgParams& params) {
  switch (row.Type(col)) {
    case SQLITE_INTEGER:
      params.Int(row.Int(col));
      break;
    case SQLITE_BLOB:
      params.Bytes(row.Bytes(col));
      break;
    default:
      params.Text(row.Bytes(col));
  }
}

// Copies every row of `table` from `from` to `to`; the number copied.
absl::StatusOr<int64_t> CopyTable(sqlite3* from, PgConnection& to,
                                  const Table& table) {
  Statement rows(
      from,
      absl::StrCat("SELECT ", table.columns, " FROM ", table.name).c_str());
  const int columns = rows.Columns();
  const std::string head =
      absl::StrCat("INSERT INTO ", table.name, " (", table.columns, ")");
  int64_t copied = 0;
  PgParams params;
  int pending = 0;
  auto flush = [&]() -> absl::Status {
    if (pending == 0) return absl::OkStatus();
    absl::Status s =
        to.Query(audit_internal::MultiRowInsert(head, columns, pending), params)
            .status();
    params = PgParams();
    pending = 0;
    return s;
  };
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    for (int c = 0; c < columns; ++c) AddValue(rows, c, params);
    ++copied;
    if (++pending == kRowsPerInsert) RETURN_IF_ERROR(flush());
  }
  if (step != SQLITE_DONE) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", table.name, ": ", rows.Error()));
  }
  RETURN_IF_ERROR(flush());
  return copied;
}

// Copies the source's chain head (table `table`) onto the target's.
absl::Status CopyHead(sqlite3* from, PgConnection& to, const char* table) {
  Statement head(
      from, absl::StrCat("SELECT sequence, hash FROM ", table, " WHERE id = 1")
                .c_str());
  if (head.Step() != SQLITE_ROW) {
    return absl::DataLossError(absl::StrCat("the source has no ", table));
  }
  return to
      .Query(absl::StrCat("UPDATE ", table,
                          " SET sequence = $1, hash = $2 WHERE id = 1"),
             PgParams().Int(head.Int(0)).Bytes(head.Bytes(1)))
      .status();
}

// Copies everything inside the caller's transaction on `to`.
absl::StatusOr<CopyReport> CopyAll(sqlite3* from, PgConnection& to,
                                   const std::string& uri) {
  // Held to the end: no replica appends while the trail moves in.
  ASSIGN_OR_RETURN(PgResult heads, to.Query("SELECT h.sequence, f.sequence,"
                                            " (SELECT count(*) FROM rule_sets)"
                                            " FROM head h, feedback_head f"
                                            " WHERE h.id = 1 AND f.id = 1"
                                            " FOR UPDATE OF h, f"));
  if (heads.rows() != 1 || heads.Int(0, 0) != 0 || heads.Int(0, 1) != 0 ||
      heads.Int(0, 2) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        uri,
        " already holds a trail (or rule sets); a trail is copied into an "
        "empty store only, as two trails do not merge into one chain"));
  }
  CopyReport report;
  for (const Table& table : CopiedTables()) {
    ASSIGN_OR_RETURN(const int64_t copied, CopyTable(from, to, table));
    const std::string name = table.name;
    if (name == "rule_sets") report.rule_sets = copied;
    if (name == "decisions") report.decisions = copied;
    if (name == "feedback") report.feedback = copied;
  }
  RETURN_IF_ERROR(CopyHead(from, to, "head"));
  RETURN_IF_ERROR(CopyHead(from, to, "feedback_head"));
  // Events copied with their own numbers: the next one follows them.
  RETURN_IF_ERROR(
      to.Query("SELECT setval(pg_get_serial_sequence('rule_set_events',"
               " 'sequence'), coalesce(max(sequence), 0) + 1, false)"
               " FROM rule_set_events")
          .status());
  return report;
}

}  // namespace

absl::StatusOr<CopyReport> CopyTrail(const std::string& sqlite_path,
                                     const std::string& uri) {
  RETURN_IF_ERROR(audit_internal::CheckPostgresUri(uri));
  ASSIGN_OR_RETURN(VerifyReport source, VerifyAuditTrail(sqlite_path));
  if (!source.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the trail in ", sqlite_path, " does not verify (",
                     source.problem, "); only an intact trail is copied"));
  }
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> from(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    return absl::NotFoundError(
        absl::StrCat("cannot open audit store ", sqlite_path));
  }
  ASSIGN_OR_RETURN(const int version,
                   audit_internal::CheckReadable(from.get(), sqlite_path));
  if (version != audit_internal::kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        sqlite_path, " has schema version ", version, "; copy takes version ",
        audit_internal::kSchemaVersion,
        ", to which `reconnect serve --audit FILE` migrates it when it "
        "opens it"));
  }
  // One read transaction: the copy is of one commit of the source.
  RETURN_IF_ERROR(audit_internal::Exec(from.get(), "BEGIN"));
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> to, PgConnection::Open(uri));
  RETURN_IF_ERROR(audit_internal::MigratePostgres(*to));
  RETURN_IF_ERROR(to->Exec("BEGIN"));
  absl::StatusOr<CopyReport> report = CopyAll(from.get(), *to, uri);
  if (!report.ok()) {
    to->Exec("ROLLBACK").IgnoreError();
    return report.status();
  }
  RETURN_IF_ERROR(to->Exec("COMMIT"));

  ASSIGN_OR_RETURN(report->arrived, VerifyAuditTrail(uri));
  const VerifyReport& arrived = report->arrived;
  if (!arrived.ok() || arrived.records != source.records ||
      arrived.head_hash != source.head_hash ||
      arrived.feedback_records != source.feedback_records ||
      arrived.feedback_head_hash != source.feedback_head_hash) {
    return absl::DataLossError(absl::StrCat(
        "the trail arrived in ", uri, " differently: ",
        arrived.ok() ? absl::StrCat(arrived.records, " records ending at ",
                                    arrived.head_hash, ", not ", source.records,
                                    " ending at ", source.head_hash)
                     : arrived.problem));
  }
  return report;
}

}  // namespace reconnect::service
