#include "service/audit/internal/group_commit.h"

#include <chrono>
#include <utility>

#include "absl/time/clock.h"

namespace reconnect::service::audit_internal {

namespace {

constexpr auto kProbeInterval = std::chrono::milliseconds(500);

}  // namespace

void GroupCommitStore::StartWriting() {
  writer_ = std::make_unique<Executor>("audit-writer", 1);
  writer_->Post([this] { WriterLoop(); });
  completer_ = std::make_unique<Executor>("audit-complete", 1);
  completer_->Post([this] { CompleterLoop(); });
}

void GroupCommitStore::StopWriting() {
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
}

void GroupCommitStore::OnHealthChange(std::function<void(bool)> callback) {
  absl::MutexLock lock(&mu_);
  on_health_ = std::move(callback);
}

void GroupCommitStore::Append(DecisionRecord record, Done done) {
  Pending p;
  if (options_.pack) {
    p.packed = Pack(dictionaries_, record);
  } else {
    p.packed = {kPackedAsIs, record.assessment, record.recommendation};
  }
  p.record = std::move(record);
  p.done = std::move(done);
  Enqueue(std::move(p));
}

void GroupCommitStore::AppendFeedback(std::vector<FeedbackRecord> entries,
                                      FeedbackDone done) {
  Pending p;
  p.is_feedback = true;
  p.feedback = std::move(entries);
  p.feedback_done = std::move(done);
  Enqueue(std::move(p));
}

void GroupCommitStore::Enqueue(Pending pending) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(std::move(pending));
      return;
    }
  }
  const absl::Status down =
      absl::UnavailableError("the audit store is shutting down");
  if (pending.is_feedback) {
    FeedbackResult result;
    result.status = down;
    pending.feedback_done(result);
  } else {
    pending.done(down);
  }
}

void GroupCommitStore::SetHealthy(bool healthy) {
  if (healthy_.exchange(healthy) == healthy) return;
  std::function<void(bool)> callback;
  {
    absl::MutexLock lock(&mu_);
    callback = on_health_;
  }
  if (callback) callback(healthy);
}

void GroupCommitStore::WriterLoop() {
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
    if (batch.empty()) {
      // Unhealthy and idle: find out whether writing works again.
      if (Probe().ok()) SetHealthy(true);
      continue;
    }
    const absl::Time taken = absl::Now();
    absl::Status status = Commit(batch);
    SetHealthy(status.ok());
    ReportCommit(batch, status, absl::Now() - taken);
    absl::MutexLock lock(&mu_);
    completed_.push_back({std::move(batch), std::move(status)});
  }
}

int64_t GroupCommitStore::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(queue_.size());
}

void GroupCommitStore::ReportCommit(const std::vector<Pending>& batch,
                                    const absl::Status& status,
                                    absl::Duration took) const {
  if (!options_.on_commit) return;
  CommitReport report;
  report.ok = status.ok();
  report.took = took;
  for (const Pending& p : batch) {
    if (!p.is_feedback) {
      ++report.decisions;
      continue;
    }
    ++report.feedback_requests;
    if (!status.ok() || !p.result.status.ok()) continue;
    for (size_t i = 0; i < p.feedback.size() && i < p.result.stored.size();
         ++i) {
      if (p.result.stored[i]) {
        const FeedbackRecord& f = p.feedback[i];
        report.feedback.push_back({f.service, f.card_item, f.outcome});
      }
    }
  }
  options_.on_commit(report);
}

void GroupCommitStore::CompleterLoop() {
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
      for (Pending& p : c.batch) {
        if (!p.is_feedback) {
          p.done(c.status);
        } else if (c.status.ok()) {
          p.feedback_done(p.result);
        } else {
          FeedbackResult failed;
          failed.status = c.status;
          p.feedback_done(failed);
        }
      }
    }
  }
}

}  // namespace reconnect::service::audit_internal
