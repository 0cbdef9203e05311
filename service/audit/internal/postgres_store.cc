#include "service/audit/internal/postgres_store.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/audit/chain.h"
#include "service/audit/internal/postgres_schema.h"
#include "service/audit/internal/rows.h"
#include "service/audit/internal/schema.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

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
  for (size_t at = 0; at < cards.size(); at += kPgRowsPerInsert) {
    const size_t rows = std::min(kPgRowsPerInsert, cards.size() - at);
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
        kPgRowsPerInsert, static_cast<size_t>(std::distance(it, rules.end())));
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
  std::vector<Pending*> records;
  for (Pending& p : batch) {
    if (!p.is_feedback) records.push_back(&p);
  }
  for (Pending* p : records) {
    DecisionRecord& r = p->record;
    r.sequence = ++sequence;
    r.prev_hash = hash;
    r.hash = ChainHash(r);
    hash = r.hash;
  }
  for (size_t at = 0; at < records.size(); at += kPgRowsPerInsert) {
    const size_t rows = std::min(kPgRowsPerInsert, records.size() - at);
    PgParams params;
    for (size_t i = at; i < at + rows; ++i) {
      const DecisionRecord& r = records[i]->record;
      const PackedContent& packed = records[i]->packed;
      params.Int(r.sequence)
          .Text(r.decision_id)
          .Int(r.time_micros)
          .Text(r.calling_system)
          .Text(r.caller)
          .Text(r.rule_set_digest)
          .Bytes(packed.assessment)
          .Bytes(packed.recommendation)
          .Bytes(r.prev_hash)
          .Bytes(r.hash)
          .Text(r.context)
          .Text(r.patient_hmac)
          .Int(packed.packing);
    }
    out.push_back({MultiRowInsert(absl::StrCat("INSERT INTO decisions (",
                                               kDecisionColumns, ")"),
                                  13, rows),
                   std::move(params)});
  }
  out.push_back({"UPDATE head SET sequence = $1, hash = $2 WHERE id = 1",
                 PgParams().Int(sequence).Bytes(hash)});
}

}  // namespace reconnect::service::audit_internal
