// Governance.AnalyzeImpact: a candidate rule set evaluated over recorded
// decisions, streamed with progress, on the service's impact executor.

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "service/api/governance_service.h"
#include "service/api/internal/governance_messages.h"
#include "service/api/status_mapping.h"
#include "service/audit/impact.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

using governance_internal::DeadlineExceeded;
using governance_internal::Invalid;
using governance_internal::ReadTimeRange;

// Streams an impact analysis: the analysis runs on the service's impact
// executor, with a store reader of its own, and queues messages; writes go
// out one at a time, as gRPC requires.
class GovernanceService::ImpactReactor final
    : public grpc::ServerWriteReactor<v1::AnalyzeImpactResponse> {
 public:
  ImpactReactor(GovernanceService& service,
                const v1::AnalyzeImpactRequest& request, DecisionQuery query,
                int max_examples, absl::Time deadline = absl::InfiniteFuture(),
                std::optional<CallSlot> slot = std::nullopt)
      : service_(service),
        candidate_(request.candidate()),
        query_(std::move(query)),
        max_examples_(max_examples),
        deadline_(deadline),
        slot_(std::move(slot)) {}

  void Start() {
    service_.impact_.Post([this] { Close(Work()); });
  }

  // Finishes at once, before Start, with `status`.
  void Refuse(const absl::Status& status) { Finish(ToGrpcStatus(status)); }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    queue_.pop_front();
    if (!ok) broken_ = true;
    if (!queue_.empty() && !broken_) {
      StartWrite(&queue_.front());
    } else {
      writing_ = false;
      MaybeFinish();
    }
  }
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  absl::Status Work() {
    LazyAuditReader store(service_.audit_path_);
    std::shared_ptr<const ruleset::CompiledRuleSet> candidate =
        service_.FindLoaded(candidate_);
    if (!candidate) {
      v1::GetRuleSetResponse found;
      RETURN_IF_ERROR(service_.Lookup(candidate_, store, found));
      auto loaded = ruleset::LoadCanonicalRuleSet(found.canonical_content(),
                                                  found.rule_set().digest());
      if (!loaded.rule_set) {
        return absl::DataLossError(
            "the candidate cannot be rebuilt from the store");
      }
      candidate = loaded.rule_set;
    }
    ASSIGN_OR_RETURN(AuditReader * reader, store.Get());
    auto report = service::AnalyzeImpact(
        *reader, *candidate, query_, max_examples_, [this](int64_t done) {
          v1::AnalyzeImpactResponse progress;
          progress.set_decisions_evaluated(done);
          Send(std::move(progress));
          return !cancelled_.load() && absl::Now() < deadline_;
        });
    if (absl::Now() >= deadline_) return DeadlineExceeded();
    RETURN_IF_ERROR(report.status());
    v1::AnalyzeImpactResponse result;
    result.set_done(true);
    result.set_decisions_evaluated(report->evaluated);
    result.set_decisions_changed(report->changed);
    result.set_candidate_digest(candidate->digest());
    for (const auto& item : report->items) {
      auto* out = result.add_items();
      out->set_kind(item.kind);
      out->set_code(item.code);
      out->set_gained(item.gained);
      out->set_lost(item.lost);
      for (const auto& id : item.examples) out->add_example_decision_ids(id);
    }
    Send(std::move(result));
    return absl::OkStatus();
  }

  void Send(v1::AnalyzeImpactResponse message) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (broken_) return;
    queue_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
  }

  void Close(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    status_ = status;
    MaybeFinish();
  }

  // Finishes once the work is over and every queued message is written.
  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!closed_ || writing_ || finished_) return;
    finished_ = true;
    Finish(ToGrpcStatus(broken_ ? absl::CancelledError("the client went away")
                                : status_));
  }

  GovernanceService& service_;
  const v1::GetRuleSetRequest candidate_;
  const DecisionQuery query_;
  const int max_examples_;
  const absl::Time deadline_;
  const std::optional<CallSlot> slot_;  // given back when the call is done
  std::atomic<bool> cancelled_{false};
  absl::Mutex mu_;
  std::deque<v1::AnalyzeImpactResponse> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

grpc::ServerWriteReactor<v1::AnalyzeImpactResponse>*
GovernanceService::AnalyzeImpact(grpc::CallbackServerContext* ctx,
                                 const v1::AnalyzeImpactRequest* request) {
  std::string caller;
  if (absl::Status s =
          authorizer_.Authorize(*ctx, Role::kAuditor, "AnalyzeImpact", &caller);
      !s.ok()) {
    auto* reactor = new ImpactReactor(*this, *request, DecisionQuery{}, 0);
    reactor->Refuse(s);
    return reactor;
  }
  std::vector<FieldViolation> violations;
  ValidateSelector(request->candidate(), "candidate.", violations);
  DecisionQuery query;
  ReadTimeRange(*request, query, violations);
  query.calling_system = request->calling_system();
  if (request->max_examples() < 0 || request->max_examples() > 100) {
    violations.push_back({"max_examples", "must be between 0 and 100"});
  }
  if (violations.empty() && audit_path_.empty()) {
    auto* reactor = new ImpactReactor(*this, *request, query, 0);
    reactor->Refuse(absl::FailedPreconditionError(
        "the audit store is off (--audit=off): nothing to analyse"));
    return reactor;
  }
  std::optional<CallSlot> slot = limits_.Admit("AnalyzeImpact");
  if (!slot) {
    auto* reactor = new ImpactReactor(*this, *request, query, 0);
    reactor->Refuse(Shed());
    return reactor;
  }
  auto* reactor = new ImpactReactor(
      *this, *request, query,
      request->max_examples() == 0 ? 3 : request->max_examples(),
      limits_.Deadline(*ctx), std::move(slot));
  if (!violations.empty()) {
    reactor->Finish(Invalid(std::move(violations)));
    return reactor;
  }
  reactor->Start();
  return reactor;
}

}  // namespace reconnect::service
