#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_SQLITE_STORE_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_SQLITE_STORE_H_

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/audit/audit_store.h"
#include "service/audit/internal/group_commit.h"
#include "service/audit/internal/sqlite.h"
#include "service/common/executor.h"

namespace reconnect::service::audit_internal {

// The audit store on one SQLite file in WAL mode with synchronous=FULL,
// written by GroupCommitStore's writer thread. A third thread, the
// checkpointer, copies the WAL into the database file on a connection of
// its own, woken by the writer's WAL hook.
class SqliteAuditStore final : public GroupCommitStore {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteAuditStore>> Open(
      Options options);
  ~SqliteAuditStore() override;

  absl::Status RecordRuleSet(const std::string& digest, const std::string& id,
                             const std::string& version,
                             const std::string& canonical_content) override
      ABSL_LOCKS_EXCLUDED(db_mu_);
  absl::Status RecordRuleSetSignatures(
      const std::string& digest,
      const std::vector<RuleSetSignature>& signatures) override
      ABSL_LOCKS_EXCLUDED(db_mu_);
  absl::Status RecordRuleSetEvent(RuleSetEvent event) override
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Test hook: changes the page limit (see Options) from the writer thread.
  void SetMaxPageCount(int64_t pages) { pending_max_pages_.store(pages); }
  // Checkpoints run by the checkpointer thread, and by the writer.
  int64_t background_checkpoints() const {
    return background_checkpoints_.load();
  }
  int64_t writer_checkpoints() const { return writer_checkpoints_.load(); }
  // Test hook: while paused, the checkpointer thread runs no checkpoint;
  // pausing waits for one under way to end.
  void PauseCheckpointerForTest(bool paused)
      ABSL_LOCKS_EXCLUDED(checkpoint_mu_);

 private:
  SqliteAuditStore(Options options, sqlite3* db, sqlite3* checkpoint_db);
  absl::Status LoadHead() ABSL_LOCKS_EXCLUDED(db_mu_);
  absl::Status Commit(std::vector<Pending>& batch) override
      ABSL_LOCKS_EXCLUDED(db_mu_);
  absl::Status Probe() override ABSL_LOCKS_EXCLUDED(db_mu_);
  void CheckpointerLoop() ABSL_LOCKS_EXCLUDED(checkpoint_mu_);
  // sqlite3_wal_hook: after each commit, with the WAL's length in frames.
  // Runs inside WriteBatch's COMMIT, so with db_mu_ held.
  static int OnWalCommit(void* store, sqlite3* db, const char* name,
                         int frames);
  absl::Status WriteBatch(std::vector<Pending>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Inserts a decision's cards into the card index.
  absl::Status WriteCards(const DecisionRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Checks and chains one feedback request's entries, all or none (a
  // savepoint), setting `p.result`; an error only when SQLite fails.
  absl::Status WriteFeedback(Pending& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Chains and inserts one checked entry, unless the same interaction was
  // stored before; appends which it was to `stored`.
  absl::Status AppendFeedbackRow(FeedbackRecord& f, Statement& seen,
                                 Statement& insert, std::vector<bool>& stored)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  void ApplyPageLimit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  // The writer's connection and the chain head it extends. The writer
  // thread, RecordRuleSet and Open use them, one at a time.
  absl::Mutex db_mu_;
  sqlite3* const db_ ABSL_GUARDED_BY(db_mu_);
  int64_t head_sequence_ ABSL_GUARDED_BY(db_mu_) = 0;
  std::string head_hash_ ABSL_GUARDED_BY(db_mu_);
  // The feedback chain's head.
  int64_t feedback_sequence_ ABSL_GUARDED_BY(db_mu_) = 0;
  std::string feedback_hash_ ABSL_GUARDED_BY(db_mu_);

  std::atomic<int64_t> pending_max_pages_{-1};

  // The checkpointer: its own connection (used on its thread only), woken
  // by the writer's WAL hook.
  sqlite3* const checkpoint_db_;
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_paused_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_stopping_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_running_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  std::atomic<int64_t> background_checkpoints_{0};
  std::atomic<int64_t> writer_checkpoints_{0};

  std::unique_ptr<Executor> checkpointer_;
};

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_SQLITE_STORE_H_
