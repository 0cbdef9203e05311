#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_GROUP_COMMIT_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_GROUP_COMMIT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/audit/audit_store.h"
#include "service/audit/internal/packing.h"
#include "service/common/executor.h"

namespace reconnect::service::audit_internal {

// What both stores share: the queue that Append and AppendFeedback fill,
// the writer thread that commits whatever has queued up in one transaction
// (group commit), the completer thread that tells the batch's callers (so
// that the writer can start the next commit while answers go out), and
// health. A store implements Commit (one batch, all or nothing) and Probe
// (whether writing works again), both run on the writer thread only.
class GroupCommitStore : public AuditStore {
 public:
  void Append(DecisionRecord record, Done done) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void AppendFeedback(std::vector<FeedbackRecord> entries,
                      FeedbackDone done) override ABSL_LOCKS_EXCLUDED(mu_);
  bool healthy() const override { return healthy_.load(); }
  void OnHealthChange(std::function<void(bool)> callback) override
      ABSL_LOCKS_EXCLUDED(mu_);
  int64_t transactions() const override { return transactions_.load(); }
  int64_t queued() const override ABSL_LOCKS_EXCLUDED(mu_);

 protected:
  // A decision, or the entries of one feedback request.
  struct Pending {
    DecisionRecord record;  // as returned: what the chain hashes
    // Its assessment and recommendation as the row holds them, packed by
    // the thread that appended it (packing.h).
    PackedContent packed;
    Done done;
    bool is_feedback = false;
    std::vector<FeedbackRecord> feedback;
    FeedbackDone feedback_done;
    FeedbackResult result;  // set by Commit for a feedback request
  };

  explicit GroupCommitStore(Options options) : options_(std::move(options)) {}

  // Starts the writer and completer threads.
  void StartWriting();
  // Commits what is queued, tells its callers, then stops both threads.
  // A store's destructor calls it before closing its connection.
  void StopWriting() ABSL_LOCKS_EXCLUDED(mu_);

  // Writes `batch` in one transaction, assigning sequences and hashes, and
  // setting each feedback request's result: OK once committed; otherwise
  // nothing of it stays (UNAVAILABLE).
  virtual absl::Status Commit(std::vector<Pending>& batch) = 0;
  // Called while unhealthy and idle: OK once writing works again.
  virtual absl::Status Probe() = 0;

  void CountTransaction() { transactions_.fetch_add(1); }

  // The dictionaries of the rule sets recorded, for packing (RecordRuleSet
  // adds to them).
  PackingDictionaries dictionaries_;
  void SetHealthy(bool healthy) ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;

 private:
  void Enqueue(Pending pending) ABSL_LOCKS_EXCLUDED(mu_);
  void WriterLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void CompleterLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Tells Options::on_commit about a batch written with `status`.
  void ReportCommit(const std::vector<Pending>& batch,
                    const absl::Status& status, absl::Duration took) const;

  struct Completed {
    std::vector<Pending> batch;
    absl::Status status;
  };
  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(bool)> on_health_ ABSL_GUARDED_BY(mu_);
  std::deque<Completed> completed_ ABSL_GUARDED_BY(mu_);
  bool writer_done_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<bool> healthy_{true};
  std::atomic<int64_t> transactions_{0};

  std::unique_ptr<Executor> writer_;
  std::unique_ptr<Executor> completer_;
};

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_GROUP_COMMIT_H_
