#ifndef RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_
#define RECONNECT_SERVICE_AUDIT_AUDIT_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

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

  AuditStore(Options options, sqlite3* db);
  absl::Status LoadHead();
  void WriterLoop();
  void CompleterLoop();
  void CheckpointerLoop();
  // sqlite3_wal_hook: after each commit, with the WAL's length in frames.
  static int OnWalCommit(void* store, sqlite3* db, const char* name,
                         int frames);
  absl::Status WriteBatch(std::vector<Pending>& batch);
  absl::Status Probe();
  void SetHealthy(bool healthy);
  void ApplyPageLimit();

  Options options_;
  sqlite3* db_;  // used by the writer thread only, after Open
  int64_t head_sequence_ = 0;
  std::string head_hash_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;            // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  std::function<void(bool)> on_health_;  // guarded by mu_

  std::mutex db_mu_;  // serialises RecordRuleSet with the writer
  std::atomic<bool> healthy_{true};
  std::atomic<int64_t> pending_max_pages_{-1};
  std::atomic<int64_t> transactions_{0};
  // Committed (or failed) batches whose callers are yet to hear: the
  // completer thread tells them, so that the writer can start the next
  // commit while responses go out.
  struct Completed {
    std::vector<Pending> batch;
    absl::Status status;
  };
  std::deque<Completed> completed_;  // guarded by mu_
  std::condition_variable completed_cv_;
  bool writer_done_ = false;  // guarded by mu_
  std::thread writer_;
  std::thread completer_;

  // The checkpointer: its own connection, woken by the writer's WAL hook.
  sqlite3* checkpoint_db_ = nullptr;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;    // guarded by checkpoint_mu_
  bool checkpoint_paused_ = false;    // guarded by checkpoint_mu_
  bool checkpoint_stopping_ = false;  // guarded by checkpoint_mu_
  std::atomic<int64_t> background_checkpoints_{0};
  std::atomic<int64_t> writer_checkpoints_{0};
  std::thread checkpointer_;
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
