#include "service/audit/internal/postgres_store.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "service/audit/chain.h"
#include "service/audit/internal/postgres_schema.h"
#include "service/audit/internal/rows.h"
#include "service/audit/internal/schema.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

// Rows per INSERT: PostgreSQL takes at most 65,535 parameters a statement.
constexpr size_t kRowsPerInsert = 1000;

// Feedback counted per (day, rule set, rule, outcome, reason), with the
// reason's latest display text.
using FeedbackKey =
    std::tuple<int64_t, std::string, std::string, std::string, std::string>;
using FeedbackCounts = std::map<FeedbackKey, std::pair<int64_t, std::string>>;

// Counts `f` as SQLite's CountFeedback does: once per rule it was on and
// once as "*", by the day it was received, its outcome and its coded
// reason ('' when none, or when the reason is not JSON).
void CountFeedbackEntry(const FeedbackRecord& f, FeedbackCounts& counts) {
  std::string reason, display;
  const nlohmann::json j =
      nlohmann::json::parse(f.override_reason, nullptr, false);
  if (j.is_object() && j.contains("reason") && j["reason"].is_object()) {
    const nlohmann::json& coding = j["reason"];
    if (coding.contains("code") && coding["code"].is_string()) {
      reason = coding["code"].get<std::string>();
    }
    if (coding.contains("display") && coding["display"].is_string()) {
      display = coding["display"].get<std::string>();
    }
  }
  std::vector<std::string> rules = f.rule_ids;
  rules.push_back("*");
  for (const std::string& rule : rules) {
    auto& [count, shown] = counts[{DayOf(f.time_micros), f.rule_set_digest,
                                   rule, f.outcome, reason}];
    ++count;
    if (!display.empty()) shown = display;  // the latest sent, as SQLite
  }
}

// Whether a failure was the database refusing this transaction only (a
// deadlock or a serialisation failure), so that running it again may work.
bool Retriable(const PgConnection& db) {
  return absl::StartsWith(db.last_sqlstate(), "40");
}

// The writer's connection.
absl::StatusOr<std::unique_ptr<PgConnection>> OpenWriterConnection(
    const std::string& uri) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> db, PgConnection::Open(uri));
  // A replica that stops while it holds the chain head (frozen, cut off)
  // holds up the others only so long: its transaction is ended after 10 s
  // idle, and a commit waiting for the head longer, or any statement
  // running over 15 s, fails (UNAVAILABLE) rather than hanging its callers.
  RETURN_IF_ERROR(
      db->Exec("SET lock_timeout = '10s';"
               "SET idle_in_transaction_session_timeout = '10s';"
               "SET statement_timeout = '15s'"));
  return db;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresAuditStore>> PostgresAuditStore::Open(
    Options options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> admin,
                   PgConnection::Open(options.path));
  RETURN_IF_ERROR(MigratePostgres(*admin));
  // As for a SQLite file: a trail whose records do not end where its last
  // commit recorded was altered, and is not written to.
  ASSIGN_OR_RETURN(
      PgResult ends,
      admin->Query("SELECT h.sequence, h.hash, coalesce(d.sequence, 0),"
                   " coalesce(d.hash, decode(repeat('00', 32), 'hex')),"
                   " f.sequence, f.hash, coalesce(l.sequence, 0),"
                   " coalesce(l.hash, decode(repeat('00', 32), 'hex'))"
                   " FROM head h, feedback_head f"
                   " LEFT JOIN LATERAL (SELECT sequence, hash FROM decisions"
                   "   ORDER BY sequence DESC LIMIT 1) d ON true"
                   " LEFT JOIN LATERAL (SELECT sequence, hash FROM feedback"
                   "   ORDER BY sequence DESC LIMIT 1) l ON true"
                   " WHERE h.id = 1 AND f.id = 1"));
  if (ends.rows() != 1) {
    return absl::DataLossError(
        "the PostgreSQL audit store's chain heads are missing; the trail was "
        "altered. Run `reconnect audit verify`");
  }
  if (ends.Int(0, 0) != ends.Int(0, 2) ||
      ends.Bytes(0, 1) != ends.Bytes(0, 3)) {
    return absl::DataLossError(absl::StrCat(
        "the PostgreSQL audit store's last record is ", ends.Int(0, 2),
        " but its last commit recorded ", ends.Int(0, 0),
        "; the trail was altered. Run `reconnect audit verify`"));
  }
  if (ends.Int(0, 4) != ends.Int(0, 6) ||
      ends.Bytes(0, 5) != ends.Bytes(0, 7)) {
    return absl::DataLossError(
        "the PostgreSQL audit store's feedback does not end where its last "
        "commit recorded; the trail was altered. Run `reconnect audit "
        "verify`");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> writer,
                   OpenWriterConnection(options.path));
  std::unique_ptr<PostgresAuditStore> store(
      new PostgresAuditStore(std::move(options)));
  store->writer_db_ = std::move(writer);
  {
    absl::MutexLock lock(&store->admin_mu_);
    store->admin_db_ = std::move(admin);
  }
  store->StartWriting();
  return store;
}

PostgresAuditStore::~PostgresAuditStore() { StopWriting(); }

absl::StatusOr<PgConnection*> PostgresAuditStore::Writer() {
  if (writer_db_ == nullptr || !writer_db_->up()) {
    writer_db_.reset();
    ASSIGN_OR_RETURN(writer_db_, OpenWriterConnection(options_.path));
  }
  return writer_db_.get();
}

absl::Status PostgresAuditStore::Probe() {
  ASSIGN_OR_RETURN(PgConnection * db, Writer());
  absl::StatusOr<PgResult> probe = db->Query(
      "INSERT INTO probe (id, at) VALUES (1, $1) ON CONFLICT (id)"
      " DO UPDATE SET at = excluded.at",
      PgParams().Int(NowMicros()));
  return probe.status();
}

absl::Status PostgresAuditStore::Commit(std::vector<Pending>& batch) {
  absl::Status status;
  // A commit that failed before COMMIT was sent stored nothing, so it is
  // run again: on a new connection when the old one went down (a restarted
  // server, a terminated backend), or after a deadlock. One whose COMMIT
  // was sent and not answered is not: it may have been stored, and its
  // callers hear UNAVAILABLE (what a caller was not told is not a decision
  // it holds).
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<PgConnection*> db = Writer();
    if (!db.ok()) return db.status();
    bool commit_sent = false;
    status = WriteBatch(**db, batch, commit_sent);
    if (status.ok()) {
      CountTransaction();
      return status;
    }
    const bool retry = !commit_sent && (!(*db)->up() || Retriable(**db));
    if ((*db)->up()) (*db)->Exec("ROLLBACK").IgnoreError();
    if (!retry) break;
  }
  return absl::UnavailableError(
      absl::StrCat("audit store cannot record: ", status.message()));
}

absl::Status PostgresAuditStore::RunPipeline(
    PgConnection& db, const std::vector<PgConnection::Statement>& statements,
    bool commits, bool& commit_sent, std::vector<PgResult>* results) {
  PgConnection::PipelineResult run = db.Pipeline(statements);
  // COMMIT was sent: unless a statement before it failed (so that it was
  // not run), whether it took is unknown once the connection is gone.
  commit_sent =
      commits &&
      (run.status.ok() ||
       run.failed == static_cast<int>(statements.size()) - 1 || !db.up());
  if (results != nullptr) *results = std::move(run.results);
  return run.status;
}

absl::Status PostgresAuditStore::WriteBatch(PgConnection& db,
                                            std::vector<Pending>& batch,
                                            bool& commit_sent) {
  bool has_feedback = false, has_decisions = false;
  for (const Pending& p : batch) {
    (p.is_feedback ? has_feedback : has_decisions) = true;
  }
  // Two round trips for decisions: what needs no chain head, then the head
  // taken FOR UPDATE; then the chained records, the head moved and COMMIT.
  std::vector<PgConnection::Statement> first = {{"BEGIN", PgParams()}};
  AddCardsAndCounts(batch, first);
  if (has_decisions) {
    first.push_back({"SELECT sequence, hash FROM head WHERE id = 1 FOR UPDATE",
                     PgParams()});
  }
  std::vector<PgResult> results;
  RETURN_IF_ERROR(RunPipeline(db, first, false, commit_sent, &results));
  std::vector<PgConnection::Statement> second;
  if (has_decisions) {
    const PgResult& head = results.back();
    if (head.rows() != 1) {
      return absl::DataLossError("the chain head is missing");
    }
    AddDecisions(head.Int(0, 0), head.Bytes(0, 1), batch, second);
  }
  if (!has_feedback) {
    second.push_back({"COMMIT", PgParams()});
    return RunPipeline(db, second, true, commit_sent, nullptr);
  }
  RETURN_IF_ERROR(RunPipeline(db, second, false, commit_sent, nullptr));
  RETURN_IF_ERROR(WriteAllFeedback(db, batch));
  return RunPipeline(db, {{"COMMIT", PgParams()}}, true, commit_sent, nullptr);
}

absl::Status PostgresAuditStore::WriteAllFeedback(PgConnection& db,
                                                  std::vector<Pending>& batch) {
  bool feedback_locked = false;
  FeedbackCounts counts;
  for (Pending& p : batch) {
    if (!p.is_feedback) continue;
    RETURN_IF_ERROR(WriteFeedback(db, p, feedback_locked));
    if (!p.result.status.ok()) continue;
    for (size_t i = 0; i < p.feedback.size(); ++i) {
      if (p.result.stored[i]) CountFeedbackEntry(p.feedback[i], counts);
    }
  }
  // Each entry stored counts at least once (as "*").
  if (counts.empty()) return absl::OkStatus();
  std::vector<PgConnection::Statement> writes;
  for (auto it = counts.begin(); it != counts.end();) {
    const size_t rows = std::min<size_t>(
        kRowsPerInsert, static_cast<size_t>(std::distance(it, counts.end())));
    PgParams params;
    for (size_t i = 0; i < rows; ++i, ++it) {
      const auto& [key, value] = *it;
      params.Int(std::get<0>(key))
          .Text(std::get<1>(key))
          .Text(std::get<2>(key))
          .Text(std::get<3>(key))
          .Text(std::get<4>(key))
          .Text(value.second)
          .Int(value.first);
    }
    writes.push_back(
        {MultiRowInsert("INSERT INTO feedback_daily (day, rule_set_digest,"
                        " rule_id, outcome, reason, display, count)",
                        7, rows,
                        " ON CONFLICT (day, rule_set_digest, rule_id, outcome,"
                        " reason) DO UPDATE SET count = feedback_daily.count +"
                        " excluded.count, display = CASE WHEN excluded.display"
                        " <> '' THEN excluded.display ELSE"
                        " feedback_daily.display END"),
         std::move(params)});
  }
  writes.push_back(
      {"UPDATE feedback_head SET sequence = $1, hash = $2 WHERE id = 1",
       PgParams().Int(feedback_sequence_).Bytes(feedback_hash_)});
  bool ignored = false;
  return RunPipeline(db, writes, false, ignored, nullptr);
}

void PostgresAuditStore::AddCardsAndCounts(
    const std::vector<Pending>& batch,
    std::vector<PgConnection::Statement>& out) {
  DailyCounts counts;
  std::vector<std::pair<const DecisionRecord*, const IssuedCard*>> cards;
  for (const Pending& p : batch) {
    if (p.is_feedback) continue;
    const DecisionRecord& r = p.record;
    counts.Add(r.time_micros, r.rule_set_digest, r.calling_system, r.outcomes);
    for (const IssuedCard& c : r.cards) cards.emplace_back(&r, &c);
  }
  for (size_t at = 0; at < cards.size(); at += kRowsPerInsert) {
    const size_t rows = std::min(kRowsPerInsert, cards.size() - at);
    PgParams params;
    for (size_t i = at; i < at + rows; ++i) {
      const auto& [r, c] = cards[i];
      params.Text(c->uuid)
          .Text(r->decision_id)
          .Text(c->service)
          .Text(c->item)
          .Text(JsonArray(c->rule_ids))
          .Text(JsonArray(c->suggestions));
    }
    out.push_back({MultiRowInsert("INSERT INTO cards (card_uuid, decision_id,"
                                  " service, item, rule_ids, suggestions)",
                                  6, rows),
                   std::move(params)});
  }
  // In key order, as every replica takes them, so that two commits
  // counting the same rows never wait on each other in a cycle.
  if (!counts.decisions().empty()) {
    PgParams params;
    for (const auto& [key, n] : counts.decisions()) {
      params.Int(std::get<0>(key))
          .Text(std::get<1>(key))
          .Text(std::get<2>(key))
          .Int(n);
    }
    out.push_back({MultiRowInsert("INSERT INTO decision_daily (day,"
                                  " rule_set_digest, calling_system, count)",
                                  4, counts.decisions().size(),
                                  " ON CONFLICT (day, rule_set_digest,"
                                  " calling_system) DO UPDATE SET count ="
                                  " decision_daily.count + excluded.count"),
                   std::move(params)});
  }
  const auto& rules = counts.rules();
  for (auto it = rules.begin(); it != rules.end();) {
    const size_t rows = std::min<size_t>(
        kRowsPerInsert, static_cast<size_t>(std::distance(it, rules.end())));
    PgParams params;
    for (size_t i = 0; i < rows; ++i, ++it) {
      params.Int(std::get<0>(it->first))
          .Text(std::get<1>(it->first))
          .Text(std::get<2>(it->first))
          .Text(std::get<3>(it->first))
          .Int(it->second);
    }
    out.push_back({MultiRowInsert("INSERT INTO rule_daily (day,"
                                  " rule_set_digest, rule_id, holder, count)",
                                  5, rows,
                                  " ON CONFLICT (day, rule_set_digest, rule_id,"
                                  " holder) DO UPDATE SET count ="
                                  " rule_daily.count + excluded.count"),
                   std::move(params)});
  }
}

void PostgresAuditStore::AddDecisions(
    int64_t sequence, std::string hash, std::vector<Pending>& batch,
    std::vector<PgConnection::Statement>& out) {
  std::vector<DecisionRecord*> records;
  for (Pending& p : batch) {
    if (!p.is_feedback) records.push_back(&p.record);
  }
  for (DecisionRecord* r : records) {
    r->sequence = ++sequence;
    r->prev_hash = hash;
    r->hash = ChainHash(*r);
    hash = r->hash;
  }
  for (size_t at = 0; at < records.size(); at += kRowsPerInsert) {
    const size_t rows = std::min(kRowsPerInsert, records.size() - at);
    PgParams params;
    for (size_t i = at; i < at + rows; ++i) {
      const DecisionRecord& r = *records[i];
      params.Int(r.sequence)
          .Text(r.decision_id)
          .Int(r.time_micros)
          .Text(r.calling_system)
          .Text(r.caller)
          .Text(r.rule_set_digest)
          .Bytes(r.assessment)
          .Bytes(r.recommendation)
          .Bytes(r.prev_hash)
          .Bytes(r.hash)
          .Text(r.context)
          .Text(r.patient_hmac);
    }
    out.push_back({MultiRowInsert(absl::StrCat("INSERT INTO decisions (",
                                               kDecisionColumns, ")"),
                                  12, rows),
                   std::move(params)});
  }
  out.push_back({"UPDATE head SET sequence = $1, hash = $2 WHERE id = 1",
                 PgParams().Int(sequence).Bytes(hash)});
}

absl::Status PostgresAuditStore::WriteFeedback(PgConnection& db, Pending& p,
                                               bool& feedback_locked) {
  if (!feedback_locked) {
    ASSIGN_OR_RETURN(PgResult head,
                     db.Query("SELECT sequence, hash FROM feedback_head"
                              " WHERE id = 1 FOR UPDATE"));
    if (head.rows() != 1) {
      return absl::DataLossError("the feedback chain head is missing");
    }
    feedback_sequence_ = head.Int(0, 0);
    feedback_hash_ = head.Bytes(0, 1);
    feedback_locked = true;
  }
  const int64_t saved_sequence = feedback_sequence_;
  const std::string saved_hash = feedback_hash_;
  RETURN_IF_ERROR(db.Exec("SAVEPOINT feedback"));
  // Refuses the request: nothing of it stays.
  auto refuse = [&](int entry, std::string field, std::string why) {
    feedback_sequence_ = saved_sequence;
    feedback_hash_ = saved_hash;
    p.result = {absl::InvalidArgumentError(std::move(why)),
                entry,
                std::move(field),
                {}};
    return db.Exec("ROLLBACK TO SAVEPOINT feedback; RELEASE feedback");
  };
  std::vector<bool> stored;
  for (size_t i = 0; i < p.feedback.size(); ++i) {
    FeedbackRecord& f = p.feedback[i];
    const int entry = static_cast<int>(i);
    if (!f.decision_id.empty()) {
      // On an item of a decision, not on a card.
      ASSIGN_OR_RETURN(PgResult decision,
                       db.Query("SELECT rule_set_digest FROM decisions"
                                " WHERE decision_id = $1",
                                PgParams().Text(f.decision_id)));
      if (decision.rows() == 0) {
        return refuse(entry, "decision",
                      absl::StrCat("no decision '", f.decision_id,
                                   "' is in the audit trail"));
      }
      f.rule_set_digest = decision.Bytes(0, 0);
    } else {
      ASSIGN_OR_RETURN(
          PgResult card,
          db.Query("SELECT c.decision_id, c.service, c.item, c.rule_ids,"
                   " c.suggestions, d.rule_set_digest FROM cards c"
                   " JOIN decisions d ON d.decision_id = c.decision_id"
                   " WHERE c.card_uuid = $1",
                   PgParams().Text(f.card_uuid)));
      if (card.rows() == 0) {
        return refuse(entry, "card",
                      absl::StrCat("no card with uuid '", f.card_uuid,
                                   "' was issued by this service"));
      }
      if (card.Bytes(0, 1) != f.service) {
        return refuse(
            entry, "card",
            absl::StrCat("card '", f.card_uuid, "' was issued by the service '",
                         card.Bytes(0, 1), "', not '", f.service, "'"));
      }
      const std::vector<std::string> suggestions =
          FromJsonArray(card.Bytes(0, 4));
      for (size_t j = 0; j < f.accepted_suggestions.size(); ++j) {
        if (std::find(suggestions.begin(), suggestions.end(),
                      f.accepted_suggestions[j]) == suggestions.end()) {
          return refuse(entry, absl::StrCat("acceptedSuggestions[", j, "].id"),
                        absl::StrCat("'", f.accepted_suggestions[j],
                                     "' is not a suggestion of card '",
                                     f.card_uuid, "'"));
        }
      }
      f.decision_id = card.Bytes(0, 0);
      f.card_item = card.Bytes(0, 2);
      f.rule_ids = FromJsonArray(card.Bytes(0, 3));
      f.rule_set_digest = card.Bytes(0, 5);
    }
    ASSIGN_OR_RETURN(
        PgResult seen,
        db.Query(
            "SELECT 1 FROM feedback WHERE card_uuid = $1"
            " AND outcome = $2 AND outcome_time = $3",
            PgParams().Text(f.card_uuid).Text(f.outcome).Text(f.outcome_time)));
    if (seen.rows() > 0) {
      stored.push_back(false);  // this interaction was stored before
      continue;
    }
    f.sequence = feedback_sequence_ + 1;
    f.prev_hash = feedback_hash_;
    f.hash = FeedbackChainHash(f);
    RETURN_IF_ERROR(
        db.Query(MultiRowInsert(absl::StrCat("INSERT INTO feedback (",
                                             kFeedbackColumns, ")"),
                                15, 1),
                 PgParams()
                     .Int(f.sequence)
                     .Int(f.time_micros)
                     .Text(f.caller)
                     .Text(f.service)
                     .Text(f.card_uuid)
                     .Text(f.outcome)
                     .Text(f.outcome_time)
                     .Text(JsonArray(f.accepted_suggestions))
                     .Text(f.override_reason)
                     .Text(f.decision_id)
                     .Text(f.card_item)
                     .Text(JsonArray(f.rule_ids))
                     .Text(f.rule_set_digest)
                     .Bytes(f.prev_hash)
                     .Bytes(f.hash))
            .status());
    feedback_sequence_ = f.sequence;
    feedback_hash_ = f.hash;
    stored.push_back(true);
  }
  p.result = {absl::OkStatus(), -1, "", std::move(stored)};
  return db.Exec("RELEASE feedback");
}

absl::Status PostgresAuditStore::AdminWrite(const std::string& what,
                                            const std::string& sql,
                                            const PgParams& params) {
  absl::MutexLock lock(&admin_mu_);
  absl::Status status;
  // Once more on a new connection when the old one went down.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (admin_db_ == nullptr || !admin_db_->up()) {
      admin_db_.reset();
      absl::StatusOr<std::unique_ptr<PgConnection>> db =
          PgConnection::Open(options_.path);
      if (!db.ok()) {
        status = db.status();
        break;
      }
      admin_db_ = std::move(*db);
    }
    status = admin_db_->Query(sql, params).status();
    if (status.ok() || admin_db_->up()) break;
  }
  if (status.ok()) return status;
  return absl::UnavailableError(
      absl::StrCat("audit store cannot ", what, ": ", status.message()));
}

absl::Status PostgresAuditStore::RecordRuleSet(
    const std::string& digest, const std::string& id,
    const std::string& version, const std::string& canonical_content) {
  return AdminWrite(absl::StrCat("record rule set ", digest),
                    "INSERT INTO rule_sets (digest, id, version, content,"
                    " first_recorded_micros) VALUES ($1, $2, $3, $4, $5)"
                    " ON CONFLICT (digest) DO NOTHING",
                    PgParams()
                        .Text(digest)
                        .Text(id)
                        .Text(version)
                        .Text(canonical_content)
                        .Int(NowMicros()));
}

absl::Status PostgresAuditStore::RecordRuleSetSignatures(
    const std::string& digest,
    const std::vector<RuleSetSignature>& signatures) {
  if (signatures.empty()) return absl::OkStatus();
  PgParams params;
  const int64_t now = NowMicros();
  for (const RuleSetSignature& s : signatures) {
    params.Text(digest)
        .Text(s.role)
        .Text(s.signer)
        .Text(s.signed_at)
        .Text(s.key_id)
        .Text(s.algorithm)
        .Text(s.jws)
        .Int(now);
  }
  return AdminWrite(
      absl::StrCat("keep the signatures of rule set ", digest),
      MultiRowInsert("INSERT INTO rule_set_signatures (digest, role, signer,"
                     " signed_at, key_id, algorithm, jws,"
                     " first_recorded_micros)",
                     8, signatures.size(), " ON CONFLICT DO NOTHING"),
      params);
}

absl::Status PostgresAuditStore::RecordRuleSetEvent(RuleSetEvent event) {
  if (event.time_micros == 0) event.time_micros = NowMicros();
  return AdminWrite(absl::StrCat("record the rule-set ", event.action),
                    "INSERT INTO rule_set_events (time_micros, action, who,"
                    " refused, active_digest, loaded_digests, refusals)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    PgParams()
                        .Int(event.time_micros)
                        .Text(event.action)
                        .Text(event.who)
                        .Text(event.refused)
                        .Text(event.active_digest)
                        .Text(JsonArray(event.loaded_digests))
                        .Text(RefusalsJson(event.refusals)));
}

}  // namespace reconnect::service::audit_internal
