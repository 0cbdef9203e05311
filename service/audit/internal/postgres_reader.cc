// Reading a PostgreSQL audit store: governance, replay and `audit verify`
// need no more than a read-only role.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "service/audit/audit_store.h"
#include "service/audit/internal/packing.h"
#include "service/audit/internal/postgres.h"
#include "service/audit/internal/postgres_schema.h"
#include "service/audit/internal/rows.h"
#include "service/audit/internal/trail_source.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

// Reads every row of `result` with `read`.
template <typename T, typename Read>
std::vector<T> AllRows(const PgResult& result, Read read) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(result.rows()));
  for (int i = 0; i < result.rows(); ++i) {
    PgRow row(result, i);
    out.push_back(read(row));
  }
  return out;
}

// A WHERE clause built from the filters that are set, numbering their
// parameters as they come.
class Where {
 public:
  Where& Add(const std::string& condition_before_param, int64_t value) {
    params_.Int(value);
    return Append(condition_before_param);
  }
  Where& Add(const std::string& condition_before_param, std::string value) {
    params_.Text(std::move(value));
    return Append(condition_before_param);
  }
  // Appends " LIMIT $n" for `limit`.
  std::string Limit(int limit) {
    params_.Int(limit);
    return absl::StrCat(" LIMIT $", params_.size());
  }
  const std::string& sql() const { return sql_; }
  const PgParams& params() const { return params_; }

 private:
  // `condition` ends where the parameter goes, e.g. "sequence > ", or holds
  // "$?" where it goes.
  Where& Append(const std::string& condition) {
    const std::string param = absl::StrCat("$", params_.size());
    std::string c = condition;
    if (const size_t at = c.find("$?"); at != std::string::npos) {
      c.replace(at, 2, param);
    } else {
      c += param;
    }
    absl::StrAppend(&sql_, sql_.empty() ? " WHERE " : " AND ", c);
    return *this;
  }
  std::string sql_;
  PgParams params_;
};

absl::Status ReadFailed(const absl::Status& status) {
  return absl::UnavailableError(
      absl::StrCat("cannot read the audit store: ", status.message()));
}

class PostgresAuditReader final : public AuditReader {
 public:
  PostgresAuditReader(std::unique_ptr<PgConnection> db, std::string uri,
                      int version)
      : uri_(std::move(uri)),
        columns_(PostgresDecisionColumns(version)),
        db_(std::move(db)) {}

  absl::StatusOr<DecisionRecord> GetDecision(
      const std::string& decision_id) override {
    ASSIGN_OR_RETURN(PgResult r, Query(absl::StrCat("SELECT ", columns_,
                                                    " FROM decisions WHERE"
                                                    " decision_id = $1"),
                                       PgParams().Text(decision_id)));
    if (r.rows() == 0) {
      return absl::NotFoundError(
          absl::StrCat("the audit store holds no decision ", decision_id));
    }
    PgRow row(r, 0);
    DecisionRecord record = ReadDecision(row);
    RETURN_IF_ERROR(UnpackRecord(record));
    return record;
  }

  absl::StatusOr<std::string> GetRuleSetContent(
      const std::string& digest) override {
    ASSIGN_OR_RETURN(PgResult r,
                     Query("SELECT content FROM rule_sets WHERE digest = $1",
                           PgParams().Text(digest)));
    if (r.rows() == 0) {
      return absl::NotFoundError(
          absl::StrCat("the audit store holds no rule set ", digest));
    }
    return r.Bytes(0, 0);
  }

  absl::StatusOr<std::vector<RuleSetSignature>> GetRuleSetSignatures(
      const std::string& digest) override {
    ASSIGN_OR_RETURN(PgResult r,
                     Query(absl::StrCat("SELECT ", kSignatureColumns,
                                        " FROM rule_set_signatures WHERE"
                                        " digest = $1 ORDER BY role,"
                                        " signed_at, signer"),
                           PgParams().Text(digest)));
    return AllRows<RuleSetSignature>(
        r, [&](PgRow& row) { return ReadSignature(row, digest); });
  }

  absl::StatusOr<std::vector<DecisionRecord>> ListDecisions(
      const DecisionQuery& q) override {
    Where where;
    where.Add("sequence > ", q.after_sequence);
    if (q.before_sequence > 0) where.Add("sequence < ", q.before_sequence);
    if (q.start_micros > 0) where.Add("time_micros >= ", q.start_micros);
    if (q.end_micros > 0) where.Add("time_micros < ", q.end_micros);
    if (!q.rule_set_digest.empty()) {
      where.Add("rule_set_digest = ", q.rule_set_digest);
    }
    if (!q.calling_system.empty()) {
      where.Add("calling_system = ", q.calling_system);
    }
    if (!q.caller.empty()) where.Add("caller = ", q.caller);
    if (!q.patient_hmac.empty()) {
      where.Add("patient_hmac = ", q.patient_hmac);
    }
    std::string columns = columns_;
    if (q.metadata_only) {
      columns = absl::StrReplaceAll(
          columns, {{"assessment, recommendation", "''::bytea, ''::bytea"},
                    {", packing", ", 0"}});
    }
    const std::string limit = where.Limit(q.limit);
    ASSIGN_OR_RETURN(PgResult r,
                     Query(absl::StrCat("SELECT ", columns, " FROM decisions",
                                        where.sql(), " ORDER BY sequence",
                                        q.newest_first ? " DESC" : "", limit),
                           where.params()));
    std::vector<DecisionRecord> records = AllRows<DecisionRecord>(
        r, [](PgRow& row) { return ReadDecision(row); });
    for (DecisionRecord& record : records)
      RETURN_IF_ERROR(UnpackRecord(record));
    return records;
  }

  absl::StatusOr<std::vector<FeedbackRecord>> ListFeedback(
      const FeedbackQuery& q) override {
    Where where;
    where.Add("sequence > ", q.after_sequence);
    if (!q.decision_id.empty()) where.Add("decision_id = ", q.decision_id);
    // The lists are JSON arrays the service wrote.
    if (!q.rule_id.empty()) where.Add("rule_ids::jsonb ? ", q.rule_id);
    if (!q.rule_set_version.empty()) {
      where.Add(
          "rule_set_digest IN (SELECT digest FROM rule_sets WHERE"
          " version = $?)",
          q.rule_set_version);
    }
    if (q.start_micros > 0) where.Add("time_micros >= ", q.start_micros);
    if (q.end_micros > 0) where.Add("time_micros < ", q.end_micros);
    std::string sql = absl::StrCat("SELECT ", kFeedbackColumns,
                                   " FROM feedback", where.sql());
    if (q.with_comment) {
      absl::StrAppend(&sql,
                      " AND override_reason <> '' AND"
                      " coalesce(override_reason::jsonb ->> 'userComment',"
                      " '') <> ''");
    }
    const std::string limit = where.Limit(q.limit);
    absl::StrAppend(&sql, " ORDER BY sequence", q.newest_first ? " DESC" : "",
                    limit);
    ASSIGN_OR_RETURN(PgResult r, Query(sql, where.params()));
    return AllRows<FeedbackRecord>(
        r, [](PgRow& row) { return ReadFeedback(row); });
  }

  absl::StatusOr<std::vector<StoredRuleSet>> ListRuleSets() override {
    ASSIGN_OR_RETURN(PgResult r,
                     Query("SELECT digest, id, version, first_recorded_micros"
                           " FROM rule_sets ORDER BY id, version"));
    return AllRows<StoredRuleSet>(r, [](PgRow& row) {
      return StoredRuleSet{row.Bytes(0), row.Bytes(1), row.Bytes(2),
                           row.Int(3)};
    });
  }

  absl::StatusOr<std::vector<DecisionDayCount>> ListDecisionCounts(
      int64_t first_day, int64_t last_day) override {
    ASSIGN_OR_RETURN(
        PgResult r,
        Query("SELECT day, rule_set_digest, calling_system, count FROM"
              " decision_daily WHERE day BETWEEN $1 AND $2 ORDER BY day,"
              " rule_set_digest, calling_system",
              PgParams().Int(first_day).Int(last_day)));
    return AllRows<DecisionDayCount>(r, [](PgRow& row) {
      return DecisionDayCount{row.Int(0), row.Bytes(1), row.Bytes(2),
                              row.Int(3)};
    });
  }

  absl::StatusOr<std::vector<RuleDayCount>> ListRuleCounts(
      int64_t first_day, int64_t last_day) override {
    ASSIGN_OR_RETURN(
        PgResult r,
        Query("SELECT day, rule_set_digest, rule_id, holder, count FROM"
              " rule_daily WHERE day BETWEEN $1 AND $2 ORDER BY day,"
              " rule_set_digest, rule_id, holder",
              PgParams().Int(first_day).Int(last_day)));
    return AllRows<RuleDayCount>(r, [](PgRow& row) {
      return RuleDayCount{row.Int(0), row.Bytes(1), row.Bytes(2), row.Bytes(3),
                          row.Int(4)};
    });
  }

  absl::StatusOr<std::vector<FeedbackDayCount>> ListFeedbackCounts(
      int64_t first_day, int64_t last_day) override {
    ASSIGN_OR_RETURN(
        PgResult r,
        Query("SELECT day, rule_set_digest, rule_id, outcome, reason,"
              " display, count FROM feedback_daily WHERE day BETWEEN $1 AND"
              " $2 ORDER BY day, rule_set_digest, rule_id, outcome, reason",
              PgParams().Int(first_day).Int(last_day)));
    return AllRows<FeedbackDayCount>(r, [](PgRow& row) {
      return FeedbackDayCount{row.Int(0),   row.Bytes(1), row.Bytes(2),
                              row.Bytes(3), row.Bytes(4), row.Bytes(5),
                              row.Int(6)};
    });
  }

  absl::StatusOr<std::vector<RuleSetEvent>> ListRuleSetEvents(
      int limit) override {
    ASSIGN_OR_RETURN(PgResult r,
                     Query(absl::StrCat("SELECT ", kRuleSetEventColumns,
                                        " FROM rule_set_events ORDER BY"
                                        " sequence DESC LIMIT $1"),
                           PgParams().Int(limit)));
    return AllRows<RuleSetEvent>(
        r, [](PgRow& row) { return ReadRuleSetEvent(row); });
  }

  absl::StatusOr<std::vector<RuleSetUsage>> ListRuleSetUsage() override {
    ASSIGN_OR_RETURN(PgResult r,
                     Query("SELECT rule_set_digest, min(day), max(day),"
                           " sum(count)::bigint FROM decision_daily"
                           " GROUP BY rule_set_digest ORDER BY 1"));
    return AllRows<RuleSetUsage>(r, [](PgRow& row) {
      return RuleSetUsage{row.Bytes(0), row.Int(1), row.Int(2), row.Int(3)};
    });
  }

  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ListDecisionIds(
      int64_t after, int limit) override {
    ASSIGN_OR_RETURN(PgResult r,
                     Query("SELECT sequence, decision_id FROM decisions"
                           " WHERE sequence > $1 ORDER BY sequence LIMIT $2",
                           PgParams().Int(after).Int(limit)));
    return AllRows<std::pair<int64_t, std::string>>(
        r, [](PgRow& row) { return std::make_pair(row.Int(0), row.Bytes(1)); });
  }

 private:
  // Runs a read, on a new connection when the server went away since the
  // last one (a reader outlives restarts of the database).
  absl::StatusOr<PgResult> Query(const std::string& sql,
                                 const PgParams& params = PgParams()) {
    absl::StatusOr<PgResult> r = db_->Query(sql, params);
    if (!r.ok() && !db_->up()) {
      // The reader is kept by its users; open a new connection in place.
      absl::StatusOr<std::unique_ptr<PgConnection>> fresh =
          PgConnection::Open(uri_);
      if (fresh.ok()) {
        db_ = std::move(*fresh);
        r = db_->Query(sql, params);
      }
    }
    if (!r.ok()) return ReadFailed(r.status());
    return r;
  }

  const std::string uri_;
  absl::Status UnpackRecord(DecisionRecord& record) {
    return Unpack(
        dictionaries_,
        [this](const std::string& digest) { return GetRuleSetContent(digest); },
        record);
  }

  std::string columns_;
  PackingDictionaries dictionaries_;
  std::unique_ptr<PgConnection> db_;
};

// What `audit verify` reads, in one read-only REPEATABLE READ transaction:
// one snapshot, while replicas go on writing.
class PostgresTrail final : public TrailSource {
 public:
  PostgresTrail(std::unique_ptr<PgConnection> db, int version)
      : columns_(PostgresDecisionColumns(version)), db_(std::move(db)) {}
  ~PostgresTrail() override { db_->Exec("COMMIT").IgnoreError(); }

  absl::Status ForEachRuleSet(const RuleSetFn& each) override {
    ASSIGN_OR_RETURN(PgResult r,
                     Read("SELECT digest, id, version, content FROM rule_sets"
                          " ORDER BY first_recorded_micros, digest"));
    for (int i = 0; i < r.rows(); ++i) {
      each(r.Bytes(i, 0), r.Bytes(i, 1), r.Bytes(i, 2), r.Bytes(i, 3));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::pair<int64_t, std::string>>> Head(
      bool feedback) override {
    ASSIGN_OR_RETURN(PgResult r,
                     Read(feedback ? "SELECT sequence, hash FROM feedback_head"
                                     " WHERE id = 1"
                                   : "SELECT sequence, hash FROM head"
                                     " WHERE id = 1"));
    if (r.rows() == 0) return std::nullopt;
    return std::make_optional(std::make_pair(r.Int(0, 0), r.Bytes(0, 1)));
  }

  absl::Status ForEachDecision(
      const std::function<bool(const DecisionRecord&)>& each) override {
    return Pages(absl::StrCat("SELECT ", columns_,
                              " FROM decisions WHERE sequence > $1"
                              " ORDER BY sequence LIMIT 1000"),
                 [&](PgRow& row) { return each(ReadDecision(row)); });
  }

  bool has_feedback() const override { return true; }

  absl::Status ForEachFeedback(
      const std::function<bool(const FeedbackRecord&, bool)>& each) override {
    return Pages(
        absl::StrCat("SELECT ", kFeedbackColumns,
                     ", EXISTS (SELECT 1 FROM decisions d WHERE"
                     " d.decision_id = feedback.decision_id)::int4"
                     " FROM feedback WHERE sequence > $1"
                     " ORDER BY sequence LIMIT 1000"),
        [&](PgRow& row) { return each(ReadFeedback(row), row.Int(15) != 0); });
  }

 private:
  absl::StatusOr<PgResult> Read(const std::string& sql,
                                const PgParams& params = PgParams()) {
    absl::StatusOr<PgResult> r = db_->Query(sql, params);
    if (!r.ok()) return absl::DataLossError(r.status().message());
    return r;
  }

  // Runs `sql` (whose $1 is the last sequence read) page by page, calling
  // `each` for each row until it returns false. The first column is the
  // sequence.
  template <typename Each>
  absl::Status Pages(const std::string& sql, Each each) {
    int64_t after = 0;
    while (true) {
      ASSIGN_OR_RETURN(PgResult r, Read(sql, PgParams().Int(after)));
      for (int i = 0; i < r.rows(); ++i) {
        PgRow row(r, i);
        if (!each(row)) return absl::OkStatus();
        after = row.Int(0);
      }
      if (r.rows() < 1000) return absl::OkStatus();
    }
  }

  std::string columns_;
  std::unique_ptr<PgConnection> db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AuditReader>> OpenPostgresReader(
    const std::string& uri) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> db, PgConnection::Open(uri));
  ASSIGN_OR_RETURN(const int version, CheckPostgresReadable(*db));
  return std::make_unique<PostgresAuditReader>(std::move(db), uri, version);
}

absl::StatusOr<std::unique_ptr<TrailSource>> OpenPostgresTrail(
    const std::string& uri) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> db, PgConnection::Open(uri));
  ASSIGN_OR_RETURN(const int version, CheckPostgresReadable(*db));
  RETURN_IF_ERROR(
      db->Exec("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  return std::make_unique<PostgresTrail>(std::move(db), version);
}

}  // namespace reconnect::service::audit_internal
