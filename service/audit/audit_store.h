#ifndef RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_
#define RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/common/executor.h"

struct sqlite3;

namespace reconnect::service {

// One decision as the audit trail keeps it. The store assigns `sequence`,
// `prev_hash` and `hash`.
struct DecisionRecord {
  int64_t sequence = 0;
  std::string decision_id;
  int64_t time_micros = 0;  // UTC, microseconds since the Unix epoch
  std::string calling_system;
  std::string caller;  // the authenticated caller; empty without identity
  std::string rule_set_digest;
  std::string assessment;      // reconnect.v1.Assessment as submitted (binary)
  std::string recommendation;  // reconnect.v1.Recommendation returned (binary)
  std::string prev_hash;       // 32 bytes; zeros before the first record
  std::string hash;            // 32 bytes
};

// The chain hash of `r` over `r.prev_hash`, with RFC 6962's domain
// separation: leaf = SHA-256(0x00 || fields), each field length-prefixed;
// hash = SHA-256(0x01 || prev_hash || leaf).
std::string ChainHash(const DecisionRecord& r);

// What `audit verify` found.
struct VerifyReport {
  int64_t records = 0;
  int64_t head_sequence = 0;
  std::string head_hash;  // hex
  // Empty when the trail is intact; otherwise the first broken record and
  // why.
  std::optional<int64_t> broken_sequence;
  std::string problem;
  bool ok() const { return problem.empty(); }
};

// The durable, tamper-evident audit trail: one SQLite file in WAL mode with
// synchronous=FULL. Decisions are appended by one writer thread that commits
// whatever has queued up in one transaction (group commit), so concurrent
// calls share the cost of a sync and no caller's thread waits on the disk.
class AuditStore {
 public:
  struct Options {
    std::string path;
    // Largest database size in pages (0: unlimited). Reaching it fails
    // writes as a full disk does; tests use it to fill the disk.
    int64_t max_page_count = 0;
    // WAL frames after which the checkpointer thread copies the WAL into the
    // database file (SQLite's own default is 1000), off the writer's path;
    // and after which the writer does so itself, between two commits, should
    // the checkpointer fall behind (which bounds the WAL: 10,000 frames of
    // 4 KiB pages is about 40 MB). Under steady load the WAL starts over only
    // after a checkpoint the writer did not race; a lower bound costs
    // latency (the writer copies more often), a higher one CPU (a longer
    // WAL file is appended rather than overwritten).
    int checkpoint_frames = 1000;
    int writer_checkpoint_frames = 10000;
  };

  // Opens (creating or migrating the schema) and starts the writer thread.
  static absl::StatusOr<std::unique_ptr<AuditStore>> Open(Options options);
  ~AuditStore();  // commits what is queued, then stops the writer
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  using Done = std::function<void(const absl::Status&)>;
  // Queues `record` (its sequence and hashes are assigned here). `done` runs
  // on the store's completion thread once the record is committed (OK) or
  // could not be (UNAVAILABLE, nothing of it stored). Never blocks on the
  // disk.
  void Append(DecisionRecord record, Done done);

  // Stores a rule-set version by digest (once; later calls are no-ops).
  // Blocks until written; for start-up and reloads, not request threads.
  absl::Status RecordRuleSet(const std::string& digest, const std::string& id,
                             const std::string& version,
                             const std::string& canonical_content);

  // Whether the last write succeeded. While it is false, the writer probes
  // the disk every `probe_interval` and flips it back once a write works.
  bool healthy() const { return healthy_.load(); }
  // Called on the writer thread whenever healthy() changes.
  void OnHealthChange(std::function<void(bool)> callback);

  // Test hook: changes the page limit (see Options) from the writer thread.
  void SetMaxPageCount(int64_t pages) { pending_max_pages_.store(pages); }

  // Transactions committed so far.
  int64_t transactions() const { return transactions_.load(); }
  // Checkpoints run by the checkpointer thread, and by the writer.
  int64_t background_checkpoints() const {
    return background_checkpoints_.load();
  }
  int64_t writer_checkpoints() const { return writer_checkpoints_.load(); }
  // Test hook: while paused, the checkpointer thread runs no checkpoint.
  void PauseCheckpointerForTest(bool paused);

 private:
  struct Pending {
    DecisionRecord record;
    Done done;
  };

  AuditStore(Options options, sqlite3* db, sqlite3* checkpoint_db);
  absl::Status LoadHead() ABSL_LOCKS_EXCLUDED(db_mu_);
  void WriterLoop() ABSL_LOCKS_EXCLUDED(mu_, db_mu_);
  void CompleterLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void CheckpointerLoop() ABSL_LOCKS_EXCLUDED(checkpoint_mu_);
  // sqlite3_wal_hook: after each commit, with the WAL's length in frames.
  // Runs inside WriteBatch's COMMIT, so with db_mu_ held.
  static int OnWalCommit(void* store, sqlite3* db, const char* name,
                         int frames);
  absl::Status WriteBatch(std::vector<Pending>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status Probe() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  void SetHealthy(bool healthy) ABSL_LOCKS_EXCLUDED(mu_);
  void ApplyPageLimit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  const Options options_;

  // The writer's connection and the chain head it extends. The writer
  // thread, RecordRuleSet and Open use them, one at a time.
  absl::Mutex db_mu_;
  sqlite3* const db_ ABSL_GUARDED_BY(db_mu_);
  int64_t head_sequence_ ABSL_GUARDED_BY(db_mu_) = 0;
  std::string head_hash_ ABSL_GUARDED_BY(db_mu_);

  // Appended records waiting for the writer, and committed (or failed)
  // batches whose callers are yet to hear: the completer thread tells them,
  // so that the writer can start the next commit while responses go out.
  struct Completed {
    std::vector<Pending> batch;
    absl::Status status;
  };
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(bool)> on_health_ ABSL_GUARDED_BY(mu_);
  std::deque<Completed> completed_ ABSL_GUARDED_BY(mu_);
  bool writer_done_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<bool> healthy_{true};
  std::atomic<int64_t> pending_max_pages_{-1};
  std::atomic<int64_t> transactions_{0};

  // The checkpointer: its own connection (used on its thread only), woken
  // by the writer's WAL hook.
  sqlite3* const checkpoint_db_;
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_paused_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_stopping_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  std::atomic<int64_t> background_checkpoints_{0};
  std::atomic<int64_t> writer_checkpoints_{0};

  // Each runs one loop; the destructor stops them in this order.
  std::unique_ptr<Executor> writer_;
  std::unique_ptr<Executor> completer_;
  std::unique_ptr<Executor> checkpointer_;
};

// Which recorded decisions to list.
struct DecisionQuery {
  int64_t start_micros = 0;     // inclusive; 0: open
  int64_t end_micros = 0;       // exclusive; 0: open
  std::string rule_set_digest;  // empty: any
  std::string calling_system;   // empty: any
  std::string caller;           // the authenticated caller; empty: any
  int64_t after_sequence = 0;   // paging: only records after this one
  int limit = 50;
  bool metadata_only = false;  // leave out assessment and recommendation
};

// A rule-set version as the store recorded it.
struct StoredRuleSet {
  std::string digest;
  std::string id;
  std::string version;
  int64_t first_recorded_micros = 0;
};

// Read access to a store file (read-only; safe while a server writes it).
class AuditReader {
 public:
  static absl::StatusOr<std::unique_ptr<AuditReader>> Open(
      const std::string& path);
  ~AuditReader();
  AuditReader(const AuditReader&) = delete;
  AuditReader& operator=(const AuditReader&) = delete;

  // NOT_FOUND when the store holds no such decision.
  absl::StatusOr<DecisionRecord> GetDecision(const std::string& decision_id);
  // The canonical content of the rule set with `digest`.
  absl::StatusOr<std::string> GetRuleSetContent(const std::string& digest);
  // Decisions matching `query`, in sequence order.
  absl::StatusOr<std::vector<DecisionRecord>> ListDecisions(
      const DecisionQuery& query);
  // Every rule-set version recorded, by id and version.
  absl::StatusOr<std::vector<StoredRuleSet>> ListRuleSets();
  // (sequence, decision id) in sequence order, after sequence `after`, at
  // most `limit`.
  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ListDecisionIds(
      int64_t after, int limit);

 private:
  explicit AuditReader(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Checks the trail in the store at `path`, opened read-only: every sequence
// number present from 1 on, each record's hash, each link to the previous
// record, and the head recorded with the last commit.
absl::StatusOr<VerifyReport> VerifyAuditTrail(const std::string& path);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_
