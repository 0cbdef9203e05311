#include "service/audit/internal/sqlite_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/audit/chain.h"
#include "service/audit/internal/postgres_store.h"
#include "service/audit/internal/schema.h"
#include "service/audit/internal/sqlite.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

absl::StatusOr<std::unique_ptr<AuditStore>> AuditStore::Open(Options options) {
  if (IsPostgresUri(options.path)) {
    ASSIGN_OR_RETURN(
        std::unique_ptr<audit_internal::PostgresAuditStore> store,
        audit_internal::PostgresAuditStore::Open(std::move(options)));
    return store;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<audit_internal::SqliteAuditStore> store,
                   audit_internal::SqliteAuditStore::Open(std::move(options)));
  return store;
}

namespace audit_internal {

absl::StatusOr<std::unique_ptr<SqliteAuditStore>> SqliteAuditStore::Open(
    Options options) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      options.path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(
        absl::StrCat("audit store ", options.path, ": ", message));
  }
  auto close_on_error = [db](absl::Status s) {
    sqlite3_close(db);
    return s;
  };
  if (auto s = Exec(db,
                    "PRAGMA journal_mode = WAL;"
                    "PRAGMA synchronous = FULL;"
                    "PRAGMA busy_timeout = 2000;");
      !s.ok()) {
    return close_on_error(s);
  }
  if (auto s = Migrate(db, options.path); !s.ok()) return close_on_error(s);
  // Checkpoints run on a connection of their own, so that copying the WAL
  // into the database does not hold up the next commit.
  sqlite3* checkpoint_db = nullptr;
  if (sqlite3_open_v2(options.path.c_str(), &checkpoint_db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK ||
      !Exec(checkpoint_db, "PRAGMA synchronous = FULL").ok()) {
    std::string message = checkpoint_db ? sqlite3_errmsg(checkpoint_db)
                                        : "cannot open a second connection";
    sqlite3_close(checkpoint_db);
    return close_on_error(absl::UnavailableError(
        absl::StrCat("audit store ", options.path, ": ", message)));
  }
  std::unique_ptr<SqliteAuditStore> store(
      new SqliteAuditStore(std::move(options), db, checkpoint_db));
  RETURN_IF_ERROR(store->LoadHead());  // the destructor closes
  {
    absl::MutexLock lock(&store->db_mu_);
    store->ApplyPageLimit();
  }
  // Replaces SQLite's automatic checkpoint on the writer's connection.
  sqlite3_wal_hook(db, &SqliteAuditStore::OnWalCommit, store.get());
  SqliteAuditStore* s = store.get();
  s->checkpointer_ = std::make_unique<Executor>("audit-checkpoint", 1);
  s->checkpointer_->Post([s] { s->CheckpointerLoop(); });
  s->StartWriting();
  return store;
}

int SqliteAuditStore::OnWalCommit(void* self, sqlite3* db, const char* name,
                                  int frames) {
  auto* store = static_cast<SqliteAuditStore*>(self);
  if (frames >= store->options_.writer_checkpoint_frames) {
    // The checkpointer has fallen behind (or cannot finish while the writer
    // keeps appending): copy the WAL now, between two commits, so that the
    // next transaction can start the WAL over. As SQLite's own automatic
    // checkpoint does; a failure here leaves the commit intact.
    if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr) == SQLITE_OK) {
      store->writer_checkpoints_.fetch_add(1);
    }
  } else if (frames >= store->options_.checkpoint_frames) {
    absl::MutexLock lock(&store->checkpoint_mu_);
    store->checkpoint_wanted_ = true;
  }
  return SQLITE_OK;
}

void SqliteAuditStore::CheckpointerLoop() {
  while (true) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_) {
        return checkpoint_stopping_ ||
               (checkpoint_wanted_ && !checkpoint_paused_);
      };
      checkpoint_mu_.Await(absl::Condition(&due));
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
      checkpoint_running_ = true;
    }
    // PASSIVE: copies what no reader still needs, never waits for a lock.
    // A failure (a full disk) is left for the next round; the writer's own
    // checkpoint bounds the WAL meanwhile.
    if (sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr,
                                  SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr) == SQLITE_OK) {
      background_checkpoints_.fetch_add(1);
    }
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_running_ = false;
  }
}

void SqliteAuditStore::PauseCheckpointerForTest(bool paused) {
  absl::MutexLock lock(&checkpoint_mu_);
  checkpoint_paused_ = paused;
  // Paused means no checkpoint runs from now on: one under way ends first.
  checkpoint_mu_.Await(absl::Condition(
      +[](bool* running) { return !*running; }, &checkpoint_running_));
}

SqliteAuditStore::SqliteAuditStore(Options options, sqlite3* db,
                                   sqlite3* checkpoint_db)
    : GroupCommitStore(std::move(options)),
      db_(db),
      checkpoint_db_(checkpoint_db) {
  pending_max_pages_.store(options_.max_page_count > 0 ? options_.max_page_count
                                                       : -1);
}

SqliteAuditStore::~SqliteAuditStore() {
  StopWriting();
  {
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_stopping_ = true;
  }
  checkpointer_.reset();
  sqlite3_close(checkpoint_db_);
  // Last to close, the writer's connection checkpoints what is left.
  absl::MutexLock lock(&db_mu_);
  sqlite3_close(db_);
}

absl::Status SqliteAuditStore::LoadHead() {
  absl::MutexLock lock(&db_mu_);
  Statement head(db_, "SELECT sequence, hash FROM head WHERE id = 1");
  if (head.Step() != SQLITE_ROW) {
    return absl::DataLossError(absl::StrCat("audit store ", options_.path,
                                            ": the chain head is missing"));
  }
  head_sequence_ = head.Int(0);
  head_hash_ = head.Bytes(1);
  Statement last(db_,
                 "SELECT sequence, hash FROM decisions ORDER BY sequence DESC "
                 "LIMIT 1");
  int64_t last_sequence = 0;
  std::string last_hash = ZeroHash();
  if (last.Step() == SQLITE_ROW) {
    last_sequence = last.Int(0);
    last_hash = last.Bytes(1);
  }
  if (last_sequence != head_sequence_ || last_hash != head_hash_) {
    return absl::DataLossError(absl::StrCat(
        "audit store ", options_.path, ": its last record is ", last_sequence,
        " but its last commit recorded ", head_sequence_,
        "; the trail was altered. Run `reconnect audit verify`"));
  }
  Statement feedback_head(
      db_, "SELECT sequence, hash FROM feedback_head WHERE id = 1");
  if (feedback_head.Step() != SQLITE_ROW) {
    return absl::DataLossError(absl::StrCat(
        "audit store ", options_.path, ": the feedback chain head is missing"));
  }
  feedback_sequence_ = feedback_head.Int(0);
  feedback_hash_ = feedback_head.Bytes(1);
  Statement last_feedback(
      db_,
      "SELECT sequence, hash FROM feedback ORDER BY sequence DESC LIMIT 1");
  const bool any = last_feedback.Step() == SQLITE_ROW;
  if ((any ? last_feedback.Int(0) : 0) != feedback_sequence_ ||
      (any ? last_feedback.Bytes(1) : ZeroHash()) != feedback_hash_) {
    return absl::DataLossError(absl::StrCat(
        "audit store ", options_.path,
        ": its feedback does not end where its last commit recorded; the "
        "trail was altered. Run `reconnect audit verify`"));
  }
  return absl::OkStatus();
}

void SqliteAuditStore::ApplyPageLimit() {
  const int64_t pages = pending_max_pages_.exchange(-1);
  if (pages < 0) return;
  // 0 lifts the limit: SQLite's largest page count.
  Exec(db_, absl::StrCat("PRAGMA max_page_count = ",
                         pages == 0 ? int64_t{4294967294} : pages))
      .IgnoreError();
}

absl::Status SqliteAuditStore::Commit(std::vector<Pending>& batch) {
  absl::MutexLock lock(&db_mu_);
  ApplyPageLimit();
  return WriteBatch(batch);
}

absl::Status SqliteAuditStore::WriteBatch(std::vector<Pending>& batch) {
  const int64_t saved_sequence = head_sequence_;
  const std::string saved_hash = head_hash_;
  const int64_t saved_feedback_sequence = feedback_sequence_;
  const std::string saved_feedback_hash = feedback_hash_;
  auto fail = [&](const std::string& what)
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
                    const std::string error = sqlite3_errmsg(db_);
                    Exec(db_, "ROLLBACK").IgnoreError();
                    head_sequence_ = saved_sequence;
                    head_hash_ = saved_hash;
                    feedback_sequence_ = saved_feedback_sequence;
                    feedback_hash_ = saved_feedback_hash;
                    return absl::UnavailableError(
                        absl::StrCat("audit store cannot ", what, ": ", error));
                  };
  if (!Exec(db_, "BEGIN IMMEDIATE").ok()) return fail("begin a transaction");
  DailyCounts counts;
  Statement row(db_,
                "INSERT INTO decisions (sequence, decision_id, time_micros,"
                " calling_system, caller, rule_set_digest, assessment,"
                " recommendation, prev_hash, hash, context, patient_hmac,"
                " packing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (Pending& p : batch) {
    if (p.is_feedback) {
      if (!WriteFeedback(p).ok()) return fail("record feedback");
      continue;
    }
    DecisionRecord& r = p.record;
    r.sequence = head_sequence_ + 1;
    r.prev_hash = head_hash_;
    r.hash = ChainHash(r);
    row.Reset();
    row.Bind(1, r.sequence)
        .BindText(2, r.decision_id)
        .Bind(3, r.time_micros)
        .BindText(4, r.calling_system)
        .BindText(5, r.caller)
        .BindText(6, r.rule_set_digest)
        .BindBlob(7, p.packed.assessment)
        .BindBlob(8, p.packed.recommendation)
        .BindBlob(9, r.prev_hash)
        .BindBlob(10, r.hash)
        .BindText(11, r.context)
        .BindText(12, r.patient_hmac)
        .Bind(13, p.packed.packing);
    if (row.Step() != SQLITE_DONE) {
      absl::Status s = fail("record a decision");
      row.Reset();
      return s;
    }
    if (!WriteCards(r).ok()) return fail("index a decision's cards");
    counts.Add(r.time_micros, r.rule_set_digest, r.calling_system, r.outcomes);
    head_sequence_ = r.sequence;
    head_hash_ = r.hash;
  }
  if (!counts.Write(db_).ok()) return fail("count the day's decisions");
  Statement head(db_, "UPDATE head SET sequence = ?, hash = ? WHERE id = 1");
  head.Bind(1, head_sequence_).BindBlob(2, head_hash_);
  if (head.Step() != SQLITE_DONE) return fail("advance the chain head");
  if (feedback_sequence_ != saved_feedback_sequence) {
    Statement feedback_head(
        db_, "UPDATE feedback_head SET sequence = ?, hash = ? WHERE id = 1");
    feedback_head.Bind(1, feedback_sequence_).BindBlob(2, feedback_hash_);
    if (feedback_head.Step() != SQLITE_DONE) {
      return fail("advance the feedback chain head");
    }
  }
  if (!Exec(db_, "COMMIT").ok()) return fail("commit");
  CountTransaction();
  return absl::OkStatus();
}

absl::Status SqliteAuditStore::Probe() {
  absl::MutexLock lock(&db_mu_);
  ApplyPageLimit();
  if (!Exec(db_, "BEGIN IMMEDIATE").ok()) {
    return absl::UnavailableError("audit store still cannot write");
  }
  Statement probe(db_, "INSERT OR REPLACE INTO probe (id, at) VALUES (1, ?)");
  probe.Bind(1, NowMicros());
  if (probe.Step() != SQLITE_DONE || !Exec(db_, "COMMIT").ok()) {
    Exec(db_, "ROLLBACK").IgnoreError();
    return absl::UnavailableError("audit store still cannot write");
  }
  return absl::OkStatus();
}

}  // namespace audit_internal
}  // namespace reconnect::service
