#include "service/audit/audit_store.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <chrono>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

// The schema this binary writes. Older files are migrated on open; newer
// ones are refused.
// 1: the first schema. 2: an index of decisions by caller, for governance
// queries by caller identity.
constexpr int kSchemaVersion = 2;
// Readers (verify, replay, governance) read every version from this one on.
constexpr int kOldestReadableVersion = 1;
constexpr auto kProbeInterval = std::chrono::milliseconds(500);
const std::string& ZeroHash() {
  static const auto* zero = new std::string(32, '\0');
  return *zero;
}

// A prepared statement, finalised on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Statement& Bind(int i, int64_t v) {
    if (ok()) rc_ = sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& BindText(int i, const std::string& v) {
    if (ok()) {
      rc_ = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                              SQLITE_TRANSIENT);
    }
    return *this;
  }
  Statement& BindBlob(int i, const std::string& v) {
    if (ok()) {
      rc_ = sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                              SQLITE_TRANSIENT);
    }
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return ok() ? sqlite3_step(stmt_) : rc_; }
  // Readies the statement to run again with new bindings.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Bytes(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string()
                        : std::string(static_cast<const char*>(p),
                                      static_cast<size_t>(n));
  }
  std::string Error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// The columns of a decisions row, in the order of kDecisionColumns.
constexpr char kDecisionColumns[] =
    "sequence, decision_id, time_micros, calling_system, caller,"
    " rule_set_digest, assessment, recommendation, prev_hash, hash";

DecisionRecord ReadDecision(Statement& row) {
  DecisionRecord r;
  r.sequence = row.Int(0);
  r.decision_id = row.Bytes(1);
  r.time_micros = row.Int(2);
  r.calling_system = row.Bytes(3);
  r.caller = row.Bytes(4);
  r.rule_set_digest = row.Bytes(5);
  r.assessment = row.Bytes(6);
  r.recommendation = row.Bytes(7);
  r.prev_hash = row.Bytes(8);
  r.hash = row.Bytes(9);
  return r;
}

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("audit store: ", error ? error : sqlite3_errmsg(db)));
    sqlite3_free(error);
    return s;
  }
  return absl::OkStatus();
}

absl::Status MigrateTo1(sqlite3* db);

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
  if (have < 1) {
    if (auto s = MigrateTo1(db); !s.ok()) return s;
  }
  return Exec(db,
              "BEGIN IMMEDIATE;"
              "CREATE INDEX IF NOT EXISTS decisions_by_caller"
              "  ON decisions(caller, time_micros);"
              "PRAGMA user_version = 2;"
              "COMMIT;");
}

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

void AddBytes(EVP_MD_CTX* ctx, const std::string& s) {
  unsigned char len[8];
  uint64_t n = s.size();
  for (int i = 7; i >= 0; --i, n >>= 8) len[i] = static_cast<unsigned char>(n);
  EVP_DigestUpdate(ctx, len, sizeof(len));
  EVP_DigestUpdate(ctx, s.data(), s.size());
}

void AddInt(EVP_MD_CTX* ctx, int64_t v) {
  unsigned char b[8];
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i, u >>= 8) b[i] = static_cast<unsigned char>(u);
  EVP_DigestUpdate(ctx, b, sizeof(b));
}

std::string Finish(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string ChainHash(const DecisionRecord& r) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  const unsigned char leaf_prefix = 0x00;
  EVP_DigestUpdate(ctx.get(), &leaf_prefix, 1);
  AddInt(ctx.get(), r.sequence);
  AddBytes(ctx.get(), r.decision_id);
  AddInt(ctx.get(), r.time_micros);
  AddBytes(ctx.get(), r.calling_system);
  AddBytes(ctx.get(), r.caller);
  AddBytes(ctx.get(), r.rule_set_digest);
  AddBytes(ctx.get(), r.assessment);
  AddBytes(ctx.get(), r.recommendation);
  const std::string leaf = Finish(ctx.get());

  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  const unsigned char node_prefix = 0x01;
  EVP_DigestUpdate(ctx.get(), &node_prefix, 1);
  EVP_DigestUpdate(ctx.get(), r.prev_hash.data(), r.prev_hash.size());
  EVP_DigestUpdate(ctx.get(), leaf.data(), leaf.size());
  return Finish(ctx.get());
}

absl::StatusOr<std::unique_ptr<AuditStore>> AuditStore::Open(Options options) {
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
  std::unique_ptr<AuditStore> store(
      new AuditStore(std::move(options), db, checkpoint_db));
  RETURN_IF_ERROR(store->LoadHead());  // the destructor closes
  {
    absl::MutexLock lock(&store->db_mu_);
    store->ApplyPageLimit();
  }
  // Replaces SQLite's automatic checkpoint on the writer's connection.
  sqlite3_wal_hook(db, &AuditStore::OnWalCommit, store.get());
  AuditStore* s = store.get();
  s->checkpointer_ = std::make_unique<Executor>("audit-checkpoint", 1);
  s->checkpointer_->Post([s] { s->CheckpointerLoop(); });
  s->writer_ = std::make_unique<Executor>("audit-writer", 1);
  s->writer_->Post([s] { s->WriterLoop(); });
  s->completer_ = std::make_unique<Executor>("audit-complete", 1);
  s->completer_->Post([s] { s->CompleterLoop(); });
  return store;
}

int AuditStore::OnWalCommit(void* self, sqlite3* db, const char* name,
                            int frames) {
  auto* store = static_cast<AuditStore*>(self);
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

void AuditStore::CheckpointerLoop() {
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
    }
    // PASSIVE: copies what no reader still needs, never waits for a lock.
    // A failure (a full disk) is left for the next round; the writer's own
    // checkpoint bounds the WAL meanwhile.
    if (sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr,
                                  SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr) == SQLITE_OK) {
      background_checkpoints_.fetch_add(1);
    }
  }
}

void AuditStore::PauseCheckpointerForTest(bool paused) {
  absl::MutexLock lock(&checkpoint_mu_);
  checkpoint_paused_ = paused;
}

AuditStore::AuditStore(Options options, sqlite3* db, sqlite3* checkpoint_db)
    : options_(std::move(options)), db_(db), checkpoint_db_(checkpoint_db) {
  pending_max_pages_.store(options_.max_page_count > 0 ? options_.max_page_count
                                                       : -1);
}

AuditStore::~AuditStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.reset();  // commits what is queued, then returns
  {
    absl::MutexLock lock(&mu_);
    writer_done_ = true;
  }
  completer_.reset();
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

absl::Status AuditStore::LoadHead() {
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
  return absl::OkStatus();
}

void AuditStore::OnHealthChange(std::function<void(bool)> callback) {
  absl::MutexLock lock(&mu_);
  on_health_ = std::move(callback);
}

void AuditStore::Append(DecisionRecord record, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back({std::move(record), std::move(done)});
      return;
    }
  }
  done(absl::UnavailableError("the audit store is shutting down"));
}

void AuditStore::SetHealthy(bool healthy) {
  if (healthy_.exchange(healthy) == healthy) return;
  std::function<void(bool)> callback;
  {
    absl::MutexLock lock(&mu_);
    callback = on_health_;
  }
  if (callback) callback(healthy);
}

void AuditStore::ApplyPageLimit() {
  const int64_t pages = pending_max_pages_.exchange(-1);
  if (pages < 0) return;
  // 0 lifts the limit: SQLite's largest page count.
  Exec(db_, absl::StrCat("PRAGMA max_page_count = ",
                         pages == 0 ? int64_t{4294967294} : pages))
      .IgnoreError();
}

void AuditStore::WriterLoop() {
  while (true) {
    std::vector<Pending> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      if (healthy_.load()) {
        mu_.Await(absl::Condition(&ready));
      } else {
        mu_.AwaitWithTimeout(absl::Condition(&ready),
                             absl::FromChrono(kProbeInterval));
      }
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    absl::Status status;
    {
      absl::MutexLock db_lock(&db_mu_);
      ApplyPageLimit();
      if (batch.empty()) {
        // Unhealthy and idle: find out whether writing works again.
        status = Probe();
        if (!status.ok()) continue;
      } else {
        status = WriteBatch(batch);
      }
    }
    SetHealthy(status.ok());
    if (batch.empty()) continue;
    absl::MutexLock lock(&mu_);
    completed_.push_back({std::move(batch), std::move(status)});
  }
}

void AuditStore::CompleterLoop() {
  while (true) {
    std::deque<Completed> ready;
    {
      absl::MutexLock lock(&mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return writer_done_ || !completed_.empty();
      };
      mu_.Await(absl::Condition(&due));
      if (completed_.empty()) return;  // the writer is done, and so are we
      ready.swap(completed_);
    }
    for (Completed& c : ready) {
      for (Pending& p : c.batch) p.done(c.status);
    }
  }
}

absl::Status AuditStore::WriteBatch(std::vector<Pending>& batch) {
  const int64_t saved_sequence = head_sequence_;
  const std::string saved_hash = head_hash_;
  auto fail = [&](const std::string& what)
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
                    const std::string error = sqlite3_errmsg(db_);
                    Exec(db_, "ROLLBACK").IgnoreError();
                    head_sequence_ = saved_sequence;
                    head_hash_ = saved_hash;
                    return absl::UnavailableError(
                        absl::StrCat("audit store cannot ", what, ": ", error));
                  };
  if (!Exec(db_, "BEGIN IMMEDIATE").ok()) return fail("begin a transaction");
  Statement row(db_,
                "INSERT INTO decisions (sequence, decision_id, time_micros,"
                " calling_system, caller, rule_set_digest, assessment,"
                " recommendation, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (Pending& p : batch) {
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
        .BindBlob(7, r.assessment)
        .BindBlob(8, r.recommendation)
        .BindBlob(9, r.prev_hash)
        .BindBlob(10, r.hash);
    if (row.Step() != SQLITE_DONE) {
      absl::Status s = fail("record a decision");
      row.Reset();
      return s;
    }
    head_sequence_ = r.sequence;
    head_hash_ = r.hash;
  }
  Statement head(db_, "UPDATE head SET sequence = ?, hash = ? WHERE id = 1");
  head.Bind(1, head_sequence_).BindBlob(2, head_hash_);
  if (head.Step() != SQLITE_DONE) return fail("advance the chain head");
  if (!Exec(db_, "COMMIT").ok()) return fail("commit");
  transactions_.fetch_add(1);
  return absl::OkStatus();
}

absl::Status AuditStore::Probe() {
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

absl::Status AuditStore::RecordRuleSet(const std::string& digest,
                                       const std::string& id,
                                       const std::string& version,
                                       const std::string& canonical_content) {
  absl::MutexLock lock(&db_mu_);
  Statement insert(db_,
                   "INSERT OR IGNORE INTO rule_sets (digest, id, version,"
                   " content, first_recorded_micros) VALUES (?, ?, ?, ?, ?)");
  insert.BindText(1, digest)
      .BindText(2, id)
      .BindText(3, version)
      .BindText(4, canonical_content)
      .Bind(5, NowMicros());
  if (insert.Step() != SQLITE_DONE) {
    return absl::UnavailableError(absl::StrCat(
        "audit store cannot record rule set ", digest, ": ", insert.Error()));
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> VerifyAuditTrail(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    return absl::NotFoundError(
        absl::StrCat("cannot open audit store ", path, ": ",
                     raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  Statement version(db.get(), "PRAGMA user_version");
  if (version.Step() != SQLITE_ROW || version.Int(0) < kOldestReadableVersion ||
      version.Int(0) > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not an audit store of schema version ",
                     kOldestReadableVersion, " to ", kSchemaVersion));
  }
  std::set<std::string> rule_sets;
  Statement digests(db.get(), "SELECT digest FROM rule_sets");
  while (digests.Step() == SQLITE_ROW) rule_sets.insert(digests.Bytes(0));

  VerifyReport report;
  auto broken = [&](int64_t sequence, std::string problem) {
    report.broken_sequence = sequence;
    report.problem = std::move(problem);
    return report;
  };
  Statement rows(db.get(), absl::StrCat("SELECT ", kDecisionColumns,
                                        " FROM decisions ORDER BY sequence")
                               .c_str());
  int64_t expected = 1;
  std::string prev = ZeroHash();
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    DecisionRecord r = ReadDecision(rows);
    if (r.sequence != expected) {
      return broken(expected,
                    absl::StrCat("record ", expected,
                                 " is missing (the next one present is ",
                                 r.sequence, ")"));
    }
    if (r.prev_hash != prev) {
      return broken(r.sequence,
                    absl::StrCat("record ", r.sequence,
                                 " does not link to the record before it"));
    }
    if (ChainHash(r) != r.hash) {
      return broken(r.sequence,
                    absl::StrCat("record ", r.sequence,
                                 " was altered: its hash does not match its "
                                 "content"));
    }
    if (!rule_sets.count(r.rule_set_digest)) {
      return broken(
          r.sequence,
          absl::StrCat("record ", r.sequence, " names rule set ",
                       r.rule_set_digest, ", which the store does not hold"));
    }
    prev = r.hash;
    ++expected;
    ++report.records;
  }
  if (step != SQLITE_DONE) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path, ": ", rows.Error()));
  }
  report.head_sequence = expected - 1;
  report.head_hash = absl::BytesToHexString(prev);
  Statement head(db.get(), "SELECT sequence, hash FROM head WHERE id = 1");
  if (head.Step() != SQLITE_ROW) {
    return broken(expected, "the chain head is missing");
  }
  if (head.Int(0) != report.head_sequence || head.Bytes(1) != prev) {
    return broken(
        expected,
        absl::StrCat("the trail ends at record ", report.head_sequence,
                     " but its last commit recorded record ", head.Int(0),
                     ": records were removed"));
  }
  return report;
}

absl::StatusOr<std::unique_ptr<AuditReader>> AuditReader::Open(
    const std::string& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::NotFoundError(
        absl::StrCat("cannot open audit store ", path, ": ", message));
  }
  Statement version(db, "PRAGMA user_version");
  if (version.Step() != SQLITE_ROW || version.Int(0) < kOldestReadableVersion ||
      version.Int(0) > kSchemaVersion) {
    sqlite3_close(db);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not an audit store of schema version ",
                     kOldestReadableVersion, " to ", kSchemaVersion));
  }
  return std::unique_ptr<AuditReader>(new AuditReader(db));
}

AuditReader::~AuditReader() { sqlite3_close(db_); }

absl::StatusOr<DecisionRecord> AuditReader::GetDecision(
    const std::string& decision_id) {
  Statement row(db_, absl::StrCat("SELECT ", kDecisionColumns,
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
  return ReadDecision(row);
}

absl::StatusOr<std::string> AuditReader::GetRuleSetContent(
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

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
AuditReader::ListDecisionIds(int64_t after, int limit) {
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

absl::StatusOr<std::vector<DecisionRecord>> AuditReader::ListDecisions(
    const DecisionQuery& q) {
  // Unset filters match everything, so one statement serves every query.
  static constexpr char kWhere[] =
      " FROM decisions WHERE sequence > ?1"
      " AND (?2 = 0 OR time_micros >= ?2) AND (?3 = 0 OR time_micros < ?3)"
      " AND (?4 = '' OR rule_set_digest = ?4)"
      " AND (?5 = '' OR calling_system = ?5)"
      " AND (?7 = '' OR caller = ?7)"
      " ORDER BY sequence LIMIT ?6";
  const std::string sql = absl::StrCat(
      "SELECT sequence, decision_id, time_micros, calling_system, caller,"
      " rule_set_digest, ",
      q.metadata_only ? "x'', x''" : "assessment, recommendation",
      ", prev_hash, hash", kWhere);
  Statement rows(db_, sql.c_str());
  rows.Bind(1, q.after_sequence)
      .Bind(2, q.start_micros)
      .Bind(3, q.end_micros)
      .BindText(4, q.rule_set_digest)
      .BindText(5, q.calling_system)
      .Bind(6, q.limit)
      .BindText(7, q.caller);
  std::vector<DecisionRecord> out;
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    DecisionRecord r = ReadDecision(rows);
    out.push_back(std::move(r));
  }
  if (step != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the audit store: ", rows.Error()));
  }
  return out;
}

absl::StatusOr<std::vector<StoredRuleSet>> AuditReader::ListRuleSets() {
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

}  // namespace reconnect::service
