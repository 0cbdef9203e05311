// Reading a SQLite audit store file: read-only, safe while a server writes
// it.

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "service/audit/audit_store.h"
#include "service/audit/internal/packing.h"
#include "service/audit/internal/schema.h"
#include "service/audit/internal/sqlite.h"
#include "service/audit/internal/trail_source.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace audit_internal {
namespace {

class SqliteAuditReader final : public AuditReader {
 public:
  // Takes ownership of `db`, a store of schema `version`.
  SqliteAuditReader(sqlite3* db, int version) : db_(db), version_(version) {}
  ~SqliteAuditReader() override;

  absl::StatusOr<DecisionRecord> GetDecision(
      const std::string& decision_id) override;
  absl::StatusOr<std::string> GetRuleSetContent(
      const std::string& digest) override;
  absl::StatusOr<std::vector<RuleSetSignature>> GetRuleSetSignatures(
      const std::string& digest) override;
  absl::StatusOr<std::vector<DecisionRecord>> ListDecisions(
      const DecisionQuery& query) override;
  absl::StatusOr<std::vector<FeedbackRecord>> ListFeedback(
      const FeedbackQuery& query) override;
  absl::StatusOr<std::vector<StoredRuleSet>> ListRuleSets() override;
  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ListDecisionIds(
      int64_t after, int limit) override;
  absl::StatusOr<std::vector<DecisionDayCount>> ListDecisionCounts(
      int64_t first_day, int64_t last_day) override;
  absl::StatusOr<std::vector<RuleDayCount>> ListRuleCounts(
      int64_t first_day, int64_t last_day) override;
  absl::StatusOr<std::vector<FeedbackDayCount>> ListFeedbackCounts(
      int64_t first_day, int64_t last_day) override;
  absl::StatusOr<std::vector<RuleSetEvent>> ListRuleSetEvents(
      int limit) override;
  absl::StatusOr<std::vector<RuleSetUsage>> ListRuleSetUsage() override;

 private:
  // Unpacks a record read in full (packing.h).
  absl::Status UnpackRecord(DecisionRecord& record) {
    return Unpack(
        dictionaries_,
        [this](const std::string& digest) { return GetRuleSetContent(digest); },
        record);
  }

  sqlite3* const db_;
  const int version_;
  PackingDictionaries dictionaries_;
};

SqliteAuditReader::~SqliteAuditReader() { sqlite3_close(db_); }

absl::StatusOr<DecisionRecord> SqliteAuditReader::GetDecision(
    const std::string& decision_id) {
  Statement row(db_, absl::StrCat("SELECT ", DecisionColumns(version_),
                                  " FROM decisions WHERE decision_id = ?")
                         .c_str());
  row.BindText(1, decision_id);
  const int step = row.Step();
  if (step == SQLITE_DONE) {
    return absl::NotFoundError(
        absl::StrCat("the audit store holds no decision ", decision_id));
  }
  if (step != SQLITE_ROW) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", row.Error()));
  }
  DecisionRecord record = ReadDecision(row);
  RETURN_IF_ERROR(UnpackRecord(record));
  return record;
}

absl::StatusOr<std::string> SqliteAuditReader::GetRuleSetContent(
    const std::string& digest) {
  Statement row(db_, "SELECT content FROM rule_sets WHERE digest = ?");
  row.BindText(1, digest);
  const int step = row.Step();
  if (step == SQLITE_ROW) return row.Bytes(0);
  if (step == SQLITE_DONE) {
    return absl::NotFoundError(
        absl::StrCat("the audit store holds no rule set ", digest));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot read the audit store: ", row.Error()));
}

absl::StatusOr<std::vector<RuleSetSignature>>
SqliteAuditReader::GetRuleSetSignatures(const std::string& digest) {
  std::vector<RuleSetSignature> out;
  if (version_ < 8) return out;
  Statement rows(db_, absl::StrCat("SELECT ", kSignatureColumns,
                                   " FROM rule_set_signatures WHERE digest = ?"
                                   " ORDER BY role, signed_at, signer")
                          .c_str());
  rows.BindText(1, digest);
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    out.push_back(ReadSignature(rows, digest));
  }
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
SqliteAuditReader::ListDecisionIds(int64_t after, int limit) {
  Statement rows(db_,
                 "SELECT sequence, decision_id FROM decisions"
                 " WHERE sequence > ? ORDER BY sequence LIMIT ?");
  rows.Bind(1, after).Bind(2, limit);
  std::vector<std::pair<int64_t, std::string>> ids;
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    ids.emplace_back(rows.Int(0), rows.Bytes(1));
  }
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return ids;
}

absl::StatusOr<std::vector<DecisionRecord>> SqliteAuditReader::ListDecisions(
    const DecisionQuery& q) {
  // Only the filters that are set go into the statement, so that SQLite
  // picks the index they fit (time, rule set, calling system, caller,
  // patient) rather than scanning the trail.
  std::string where = " WHERE sequence > ?1";
  if (q.before_sequence > 0) absl::StrAppend(&where, " AND sequence < ?2");
  if (q.start_micros > 0) absl::StrAppend(&where, " AND time_micros >= ?3");
  if (q.end_micros > 0) absl::StrAppend(&where, " AND time_micros < ?4");
  if (!q.rule_set_digest.empty()) {
    absl::StrAppend(&where, " AND rule_set_digest = ?5");
  }
  if (!q.calling_system.empty()) {
    absl::StrAppend(&where, " AND calling_system = ?6");
  }
  if (!q.caller.empty()) absl::StrAppend(&where, " AND caller = ?7");
  if (!q.patient_hmac.empty()) {
    // A store from before the column has no patient index: nothing
    // matches there, rather than every decision.
    absl::StrAppend(
        &where, version_ >= 5 ? " AND patient_hmac = ?8" : " AND ?8 IS NULL");
  }
  std::string columns = DecisionColumns(version_);
  if (q.metadata_only) {
    absl::StrReplaceAll(
        {{"assessment, recommendation", "x'', x''"}, {", packing", ", 0"}},
        &columns);
  }
  const std::string sql = absl::StrCat(
      "SELECT ", columns, " FROM decisions", where, " ORDER BY sequence",
      q.newest_first ? " DESC" : "", " LIMIT ?9");
  Statement rows(db_, sql.c_str());
  rows.Bind(1, q.after_sequence)
      .Bind(2, q.before_sequence)
      .Bind(3, q.start_micros)
      .Bind(4, q.end_micros)
      .BindText(5, q.rule_set_digest)
      .BindText(6, q.calling_system)
      .BindText(7, q.caller)
      .BindText(8, q.patient_hmac)
      .Bind(9, q.limit);
  std::vector<DecisionRecord> out;
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    out.push_back(ReadDecision(rows));
  }
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  for (DecisionRecord& record : out) RETURN_IF_ERROR(UnpackRecord(record));
  return out;
}

namespace {

absl::Status NoDailyCounts(int version, int needed) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the audit store has schema version ", version,
      ", before these daily "
      "counts (",
      needed, "); `reconnect serve` migrates it when it opens it"));
}

// Runs `rows` (days bound as ?1 and ?2) and reads each row with `read`.
template <typename T, typename Read>
absl::StatusOr<std::vector<T>> DailyRows(Statement& rows, int64_t first_day,
                                         int64_t last_day, Read read) {
  rows.Bind(1, first_day).Bind(2, last_day);
  std::vector<T> out;
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) out.push_back(read(rows));
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<DecisionDayCount>>
SqliteAuditReader::ListDecisionCounts(int64_t first_day, int64_t last_day) {
  if (version_ < 6) return NoDailyCounts(version_, 6);
  Statement rows(db_,
                 "SELECT day, rule_set_digest, calling_system, count FROM "
                 "decision_daily WHERE day BETWEEN ?1 AND ?2 ORDER BY day,"
                 " rule_set_digest, calling_system");
  return DailyRows<DecisionDayCount>(
      rows, first_day, last_day, [](Statement& r) {
        return DecisionDayCount{r.Int(0), r.Bytes(1), r.Bytes(2), r.Int(3)};
      });
}

absl::StatusOr<std::vector<RuleDayCount>> SqliteAuditReader::ListRuleCounts(
    int64_t first_day, int64_t last_day) {
  if (version_ < 6) return NoDailyCounts(version_, 6);
  Statement rows(db_,
                 "SELECT day, rule_set_digest, rule_id, holder, count FROM "
                 "rule_daily WHERE day BETWEEN ?1 AND ?2 ORDER BY day,"
                 " rule_set_digest, rule_id, holder");
  return DailyRows<RuleDayCount>(rows, first_day, last_day, [](Statement& r) {
    return RuleDayCount{r.Int(0), r.Bytes(1), r.Bytes(2), r.Bytes(3), r.Int(4)};
  });
}

absl::StatusOr<std::vector<FeedbackDayCount>>
SqliteAuditReader::ListFeedbackCounts(int64_t first_day, int64_t last_day) {
  if (version_ < 7) return NoDailyCounts(version_, 7);
  Statement rows(db_,
                 "SELECT day, rule_set_digest, rule_id, outcome, reason,"
                 " display, count FROM feedback_daily WHERE day BETWEEN ?1 AND"
                 " ?2 ORDER BY day, rule_set_digest, rule_id, outcome, reason");
  return DailyRows<FeedbackDayCount>(
      rows, first_day, last_day, [](Statement& r) {
        return FeedbackDayCount{r.Int(0),   r.Bytes(1), r.Bytes(2), r.Bytes(3),
                                r.Bytes(4), r.Bytes(5), r.Int(6)};
      });
}

absl::StatusOr<std::vector<RuleSetEvent>> SqliteAuditReader::ListRuleSetEvents(
    int limit) {
  std::vector<RuleSetEvent> out;
  if (version_ < 7) return out;  // not kept before schema 7
  Statement rows(db_, absl::StrCat("SELECT ", kRuleSetEventColumns,
                                   " FROM rule_set_events ORDER BY sequence"
                                   " DESC LIMIT ?1")
                          .c_str());
  rows.Bind(1, limit);
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    out.push_back(ReadRuleSetEvent(rows));
  }
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return out;
}

absl::StatusOr<std::vector<RuleSetUsage>>
SqliteAuditReader::ListRuleSetUsage() {
  if (version_ < 6) return NoDailyCounts(version_, 6);
  // decision_daily holds a row per day, rule set and calling system: small.
  Statement rows(db_,
                 "SELECT rule_set_digest, min(day), max(day), sum(count)"
                 " FROM decision_daily GROUP BY rule_set_digest");
  std::vector<RuleSetUsage> out;
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    out.push_back({rows.Bytes(0), rows.Int(1), rows.Int(2), rows.Int(3)});
  }
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return out;
}

absl::StatusOr<std::vector<FeedbackRecord>> SqliteAuditReader::ListFeedback(
    const FeedbackQuery& q) {
  std::vector<FeedbackRecord> out;
  if (version_ < 4) return out;  // no feedback before schema 4
  // Only the filters that are set go into the statement, as for decisions,
  // so that a period is read by its index (schema 7 on).
  std::string where = " WHERE sequence > ?1";
  if (!q.decision_id.empty()) absl::StrAppend(&where, " AND decision_id = ?2");
  if (!q.rule_id.empty()) {
    absl::StrAppend(&where,
                    " AND EXISTS (SELECT 1 FROM json_each(rule_ids)"
                    " WHERE value = ?3)");
  }
  if (!q.rule_set_version.empty()) {
    absl::StrAppend(&where,
                    " AND rule_set_digest IN (SELECT digest FROM rule_sets"
                    " WHERE version = ?4)");
  }
  if (q.start_micros > 0) absl::StrAppend(&where, " AND time_micros >= ?5");
  if (q.end_micros > 0) absl::StrAppend(&where, " AND time_micros < ?6");
  if (q.with_comment) {
    absl::StrAppend(&where,
                    " AND json_valid(override_reason) AND"
                    " json_extract(override_reason, '$.userComment') != ''");
  }
  const std::string sql = absl::StrCat(
      "SELECT ", kFeedbackColumns, " FROM feedback", where,
      " ORDER BY sequence", q.newest_first ? " DESC" : "", " LIMIT ?7");
  Statement rows(db_, sql.c_str());
  rows.Bind(1, q.after_sequence)
      .BindText(2, q.decision_id)
      .BindText(3, q.rule_id)
      .BindText(4, q.rule_set_version)
      .Bind(5, q.start_micros)
      .Bind(6, q.end_micros)
      .Bind(7, q.limit);
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) out.push_back(ReadFeedback(rows));
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return out;
}

absl::StatusOr<std::vector<StoredRuleSet>> SqliteAuditReader::ListRuleSets() {
  Statement rows(db_,
                 "SELECT digest, id, version, first_recorded_micros"
                 " FROM rule_sets ORDER BY id, version");
  std::vector<StoredRuleSet> out;
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    out.push_back({rows.Bytes(0), rows.Bytes(1), rows.Bytes(2), rows.Int(3)});
  }
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return out;
}

}  // namespace
}  // namespace audit_internal

using audit_internal::CheckReadable;
using audit_internal::SqliteAuditReader;

absl::StatusOr<std::unique_ptr<AuditReader>> AuditReader::Open(
    const std::string& path) {
  if (IsPostgresUri(path)) return audit_internal::OpenPostgresReader(path);
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::NotFoundError(
        absl::StrCat("cannot open audit store ", path, ": ", message));
  }
  absl::StatusOr<int> version = CheckReadable(db, path);
  if (!version.ok()) {
    sqlite3_close(db);
    return version.status();
  }
  return std::make_unique<SqliteAuditReader>(db, *version);
}

}  // namespace reconnect::service
