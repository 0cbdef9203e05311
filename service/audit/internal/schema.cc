#include "service/audit/internal/schema.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "reconnect/v1/assessment.pb.h"
#include "reconnect/v1/recommendation.pb.h"
#include "service/audit/internal/sqlite.h"
#include "service/audit/rule_outcomes.h"
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

// 3 to 4: the cards decisions were answered with, and the feedback on them
// in a chain of its own, with its own head.
absl::Status MigrateTo4(sqlite3* db) {
  return Exec(db,
              "BEGIN IMMEDIATE;"
              "CREATE TABLE cards("
              "  card_uuid TEXT PRIMARY KEY,"
              "  decision_id TEXT NOT NULL,"
              "  service TEXT NOT NULL,"
              "  item TEXT NOT NULL,"
              "  rule_ids TEXT NOT NULL,"      // JSON array
              "  suggestions TEXT NOT NULL);"  // JSON array of uuids
              "CREATE TABLE feedback("
              "  sequence INTEGER PRIMARY KEY,"
              "  time_micros INTEGER NOT NULL,"
              "  caller TEXT NOT NULL,"
              "  service TEXT NOT NULL,"
              "  card_uuid TEXT NOT NULL,"
              "  outcome TEXT NOT NULL,"
              "  outcome_time TEXT NOT NULL,"
              "  accepted_suggestions TEXT NOT NULL,"  // JSON array
              "  override_reason TEXT NOT NULL,"
              "  decision_id TEXT NOT NULL,"
              "  card_item TEXT NOT NULL,"
              "  rule_ids TEXT NOT NULL,"  // JSON array
              "  rule_set_digest TEXT NOT NULL,"
              "  prev_hash BLOB NOT NULL,"
              "  hash BLOB NOT NULL,"
              // One interaction with a card is stored once.
              "  UNIQUE (card_uuid, outcome, outcome_time));"
              "CREATE INDEX feedback_by_decision ON feedback(decision_id);"
              "CREATE TABLE feedback_head("
              "  id INTEGER PRIMARY KEY CHECK (id = 1),"
              "  sequence INTEGER NOT NULL,"
              "  hash BLOB NOT NULL);"
              "INSERT INTO feedback_head VALUES (1, 0, zeroblob(32));"
              "PRAGMA user_version = 4;"
              "COMMIT;");
}

// 4 to 5: each decision's patient HMAC in a column of its own, indexed, so
// that a patient's decisions are found without reading every assessment.
// Filled from the assessments already stored.
absl::Status MigrateTo5(sqlite3* db) {
  RETURN_IF_ERROR(Exec(db,
                       "BEGIN IMMEDIATE;"
                       "ALTER TABLE decisions ADD COLUMN patient_hmac TEXT "
                       "NOT NULL DEFAULT '';"));
  {
    Statement rows(db, "SELECT sequence, assessment FROM decisions");
    Statement update(
        db, "UPDATE decisions SET patient_hmac = ? WHERE sequence = ?");
    int step;
    while ((step = rows.Step()) == SQLITE_ROW) {
      v1::Assessment assessment;
      if (!assessment.ParseFromString(rows.Bytes(1)) ||
          assessment.patient_ref().empty()) {
        continue;  // verify reports an unreadable record; not this step
      }
      update.Reset();
      update.BindText(1, assessment.patient_ref()).Bind(2, rows.Int(0));
      if (update.Step() != SQLITE_DONE) {
        const std::string error = update.Error();
        Exec(db, "ROLLBACK").IgnoreError();
        return absl::UnavailableError(error);
      }
    }
    if (step != SQLITE_DONE) {
      const std::string error = rows.Error();
      Exec(db, "ROLLBACK").IgnoreError();
      return absl::UnavailableError(error);
    }
  }
  return Exec(db,
              "CREATE INDEX decisions_by_patient"
              "  ON decisions(patient_hmac, time_micros)"
              "  WHERE patient_hmac != '';"
              "PRAGMA user_version = 5;"
              "COMMIT;");
}

// 5 to 6: decisions per day and rule set, and rule fires and holds per
// day, kept by the writer from now on and counted here from the decisions
// already stored.
absl::Status MigrateTo6(sqlite3* db) {
  RETURN_IF_ERROR(Exec(db,
                       "BEGIN IMMEDIATE;"
                       "CREATE TABLE decision_daily("
                       "  day INTEGER NOT NULL,"
                       "  rule_set_digest TEXT NOT NULL,"
                       "  calling_system TEXT NOT NULL,"
                       "  count INTEGER NOT NULL,"
                       "  PRIMARY KEY (day, rule_set_digest, calling_system))"
                       "  WITHOUT ROWID;"
                       "CREATE TABLE rule_daily("
                       "  day INTEGER NOT NULL,"
                       "  rule_set_digest TEXT NOT NULL,"
                       "  rule_id TEXT NOT NULL,"
                       "  holder TEXT NOT NULL,"  // '': fired
                       "  count INTEGER NOT NULL,"
                       "  PRIMARY KEY (day, rule_set_digest, rule_id, holder))"
                       "  WITHOUT ROWID;"));
  DailyCounts counts;
  {
    Statement rows(db,
                   "SELECT time_micros, rule_set_digest, calling_system,"
                   " recommendation FROM decisions");
    int step;
    while ((step = rows.Step()) == SQLITE_ROW) {
      v1::Recommendation plan;
      RuleOutcomes outcomes;
      // An unreadable record is verify's to report; it counts as a
      // decision without rules here.
      if (plan.ParseFromString(rows.Bytes(3))) outcomes = OutcomesOf(plan);
      counts.Add(rows.Int(0), rows.Bytes(1), rows.Bytes(2), outcomes);
    }
    if (step != SQLITE_DONE) {
      const std::string error = rows.Error();
      Exec(db, "ROLLBACK").IgnoreError();
      return absl::UnavailableError(error);
    }
  }
  if (absl::Status s = counts.Write(db); !s.ok()) {
    Exec(db, "ROLLBACK").IgnoreError();
    return s;
  }
  return Exec(db, "PRAGMA user_version = 6; COMMIT;");
}

// 6 to 7: feedback per day, rule, outcome and reason, kept by the writer
// from now on and counted here from the feedback already stored; feedback
// by time, for a period's comments; and the reloads and activations of
// rule-set versions from now on.
absl::Status MigrateTo7(sqlite3* db) {
  RETURN_IF_ERROR(Exec(db,
                       "BEGIN IMMEDIATE;"
                       "CREATE TABLE feedback_daily("
                       "  day INTEGER NOT NULL,"
                       "  rule_set_digest TEXT NOT NULL,"
                       "  rule_id TEXT NOT NULL,"
                       "  outcome TEXT NOT NULL,"
                       "  reason TEXT NOT NULL,"   // the coded reason, or ''
                       "  display TEXT NOT NULL,"  // its latest display text
                       "  count INTEGER NOT NULL,"
                       "  PRIMARY KEY (day, rule_set_digest, rule_id, outcome,"
                       "    reason)) WITHOUT ROWID;"
                       "CREATE INDEX feedback_by_time ON feedback(time_micros);"
                       "CREATE TABLE rule_set_events("
                       "  sequence INTEGER PRIMARY KEY,"
                       "  time_micros INTEGER NOT NULL,"
                       "  action TEXT NOT NULL,"
                       "  who TEXT NOT NULL,"
                       "  refused TEXT NOT NULL,"
                       "  active_digest TEXT NOT NULL,"
                       "  loaded_digests TEXT NOT NULL,"  // JSON array
                       "  refusals TEXT NOT NULL);"));    // JSON array
  if (absl::Status s = CountFeedback(db, 1, INT64_MAX); !s.ok()) {
    Exec(db, "ROLLBACK").IgnoreError();
    return s;
  }
  return Exec(db, "PRAGMA user_version = 7; COMMIT;");
}

}  // namespace

absl::Status CountFeedback(sqlite3* db, int64_t first, int64_t last) {
  // The reason is JSON the service wrote ({"reason": Coding, ...}); a value
  // that is not JSON counts as no reason rather than failing the write.
  Statement count(
      db,
      "INSERT INTO feedback_daily (day, rule_set_digest, rule_id, outcome,"
      " reason, display, count)"
      " SELECT CASE WHEN f.time_micros >= 0 THEN f.time_micros / 86400000000"
      "   ELSE (f.time_micros - 86399999999) / 86400000000 END,"
      " f.rule_set_digest, r.value, f.outcome,"
      " CASE WHEN json_valid(f.override_reason) THEN"
      "   coalesce(json_extract(f.override_reason, '$.reason.code'), '')"
      "   ELSE '' END AS reason,"
      " max(CASE WHEN json_valid(f.override_reason) THEN"
      "   coalesce(json_extract(f.override_reason, '$.reason.display'), '')"
      "   ELSE '' END),"
      " count(*)"
      " FROM feedback f, json_each(json_insert(CASE WHEN"
      "   json_valid(f.rule_ids) THEN f.rule_ids ELSE '[]' END, '$[#]', '*')) r"
      " WHERE f.sequence BETWEEN ?1 AND ?2"
      " GROUP BY 1, 2, 3, 4, 5"
      " ON CONFLICT DO UPDATE SET count = count + excluded.count,"
      " display = CASE WHEN excluded.display != '' THEN excluded.display"
      "   ELSE display END");
  count.Bind(1, first).Bind(2, last);
  if (count.Step() != SQLITE_DONE) return absl::UnavailableError(count.Error());
  return absl::OkStatus();
}

void DailyCounts::Add(int64_t time_micros, const std::string& digest,
                      const std::string& calling_system,
                      const RuleOutcomes& outcomes) {
  const int64_t day = DayOf(time_micros);
  ++decisions_[{day, digest, calling_system}];
  for (const std::string& rule : outcomes.fired) {
    ++rules_[{day, digest, rule, ""}];
  }
  const std::string* last = nullptr;
  for (const auto& [rule, holder] : outcomes.held) {
    ++rules_[{day, digest, rule, holder}];
    // Held by any rule: once per decision (held is sorted by rule).
    if (last == nullptr || *last != rule) ++rules_[{day, digest, rule, "*"}];
    last = &rule;
  }
}

absl::Status DailyCounts::Write(sqlite3* db) {
  Statement decision(
      db,
      "INSERT INTO decision_daily (day, rule_set_digest, calling_system,"
      " count) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count +"
      " excluded.count");
  for (const auto& [key, n] : decisions_) {
    decision.Reset();
    decision.Bind(1, std::get<0>(key))
        .BindText(2, std::get<1>(key))
        .BindText(3, std::get<2>(key))
        .Bind(4, n);
    if (decision.Step() != SQLITE_DONE) {
      return absl::UnavailableError(decision.Error());
    }
  }
  Statement rule(db,
                 "INSERT INTO rule_daily (day, rule_set_digest, rule_id, "
                 "holder, count) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO "
                 "UPDATE SET count = count + excluded.count");
  for (const auto& [key, n] : rules_) {
    rule.Reset();
    rule.Bind(1, std::get<0>(key))
        .BindText(2, std::get<1>(key))
        .BindText(3, std::get<2>(key))
        .BindText(4, std::get<3>(key))
        .Bind(5, n);
    if (rule.Step() != SQLITE_DONE) return absl::UnavailableError(rule.Error());
  }
  decisions_.clear();
  rules_.clear();
  return absl::OkStatus();
}

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
  if (have < 3) {
    RETURN_IF_ERROR(Exec(db,
                         "BEGIN IMMEDIATE;"
                         "ALTER TABLE decisions ADD COLUMN context TEXT NOT "
                         "NULL DEFAULT '';"
                         "PRAGMA user_version = 3;"
                         "COMMIT;"));
  }
  if (have < 4) RETURN_IF_ERROR(MigrateTo4(db));
  if (have < 5) RETURN_IF_ERROR(MigrateTo5(db));
  if (have < 6) RETURN_IF_ERROR(MigrateTo6(db));
  if (have < 7) RETURN_IF_ERROR(MigrateTo7(db));
  // 7 to 8: the sign-offs each rule-set version was served with.
  if (have < 8) {
    RETURN_IF_ERROR(Exec(db,
                         "BEGIN IMMEDIATE;"
                         "CREATE TABLE rule_set_signatures("
                         "  digest TEXT NOT NULL,"
                         "  role TEXT NOT NULL,"
                         "  signer TEXT NOT NULL,"
                         "  signed_at TEXT NOT NULL,"
                         "  key_id TEXT NOT NULL,"
                         "  algorithm TEXT NOT NULL,"
                         "  jws TEXT NOT NULL,"
                         "  first_recorded_micros INTEGER NOT NULL,"
                         "  PRIMARY KEY (digest, jws)) WITHOUT ROWID;"
                         "PRAGMA user_version = 8;"
                         "COMMIT;"));
  }
  // 8 to 9: how each decision's assessment and recommendation are held
  // (packing.h). The rows already stored stay as they are (0).
  return Exec(db,
              "BEGIN IMMEDIATE;"
              "ALTER TABLE decisions ADD COLUMN packing INTEGER NOT NULL "
              "DEFAULT 0;"
              "PRAGMA user_version = 9;"
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
