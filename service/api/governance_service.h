#ifndef RECONNECT_SERVICE_API_GOVERNANCE_SERVICE_H_
#define RECONNECT_SERVICE_API_GOVERNANCE_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reconnect/v1/governance.grpc.pb.h"
#include "service/audit/audit_store.h"
#include "service/audit/replay.h"
#include "service/common/executor.h"
#include "service/decision/request_validator.h"
#include "service/decision/rule_set_registry.h"
#include "service/decision/rule_set_versions.h"
#include "service/security/auth.h"
#include "service/security/call_limits.h"

namespace reconnect::service {

// A reader of the audit store file, opened on first use. Not thread-safe:
// each thread that reads has its own.
class LazyAuditReader {
 public:
  // `path` empty: the audit store is off.
  explicit LazyAuditReader(std::string path);
  // FAILED_PRECONDITION when the audit store is off; the open's error when
  // the file cannot be read.
  absl::StatusOr<AuditReader*> Get();

 private:
  const std::string path_;
  std::unique_ptr<AuditReader> reader_;
};

// The Governance gRPC service (callback API). Its reads go to the audit
// store's file and can take a while, so each call is validated on the gRPC
// thread and then answered from the service's own worker thread: no gRPC
// thread waits on the disk. Impact analyses, which may run for minutes, run
// on an executor of their own, so that a reload, an activation or a read
// never waits behind one.
class GovernanceService final : public v1::Governance::CallbackService {
 public:
  // `registry`, `versions`, `authorizer` and `limits` must outlive the
  // service.
  // `audit_path` is the store's file, or empty when the audit store is off
  // (decision methods then answer FAILED_PRECONDITION). Read methods need
  // the auditor role; ReloadRuleSets and ActivateRuleSet the admin role.
  GovernanceService(const RuleSetRegistry& registry, RuleSetVersions& versions,
                    Authorizer& authorizer, CallLimits& limits,
                    std::string audit_path);
  GovernanceService(const GovernanceService&) = delete;
  GovernanceService& operator=(const GovernanceService&) = delete;

  grpc::ServerUnaryReactor* ListRuleSets(
      grpc::CallbackServerContext* ctx, const v1::ListRuleSetsRequest* request,
      v1::ListRuleSetsResponse* response) override;
  grpc::ServerUnaryReactor* GetRuleSet(
      grpc::CallbackServerContext* ctx, const v1::GetRuleSetRequest* request,
      v1::GetRuleSetResponse* response) override;
  grpc::ServerUnaryReactor* DiffRuleSets(
      grpc::CallbackServerContext* ctx, const v1::DiffRuleSetsRequest* request,
      v1::DiffRuleSetsResponse* response) override;
  grpc::ServerUnaryReactor* GetDecision(grpc::CallbackServerContext* ctx,
                                        const v1::GetDecisionRequest* request,
                                        v1::Decision* response) override;
  grpc::ServerUnaryReactor* ListDecisions(
      grpc::CallbackServerContext* ctx, const v1::ListDecisionsRequest* request,
      v1::ListDecisionsResponse* response) override;
  grpc::ServerUnaryReactor* ReplayDecision(
      grpc::CallbackServerContext* ctx,
      const v1::ReplayDecisionRequest* request,
      v1::ReplayDecisionResponse* response) override;
  grpc::ServerWriteReactor<v1::AnalyzeImpactResponse>* AnalyzeImpact(
      grpc::CallbackServerContext* ctx,
      const v1::AnalyzeImpactRequest* request) override;
  grpc::ServerUnaryReactor* ListFeedback(
      grpc::CallbackServerContext* context,
      const v1::ListFeedbackRequest* request,
      v1::ListFeedbackResponse* response) override;
  grpc::ServerUnaryReactor* VerifyAuditTrail(
      grpc::CallbackServerContext* ctx,
      const v1::VerifyAuditTrailRequest* request,
      v1::VerifyAuditTrailResponse* response) override;
  grpc::ServerUnaryReactor* ReloadRuleSets(
      grpc::CallbackServerContext* ctx,
      const v1::ReloadRuleSetsRequest* request,
      v1::ReloadRuleSetsResponse* response) override;
  grpc::ServerUnaryReactor* ActivateRuleSet(
      grpc::CallbackServerContext* ctx,
      const v1::ActivateRuleSetRequest* request,
      v1::ActivateRuleSetResponse* response) override;

 private:
  class ImpactReactor;
  // Finishes a unary call with INVALID_ARGUMENT naming `violations`.
  // A call finished with UNAUTHENTICATED or PERMISSION_DENIED; null when
  // the caller holds `role` (its identity then in `identity`, if given).
  grpc::ServerUnaryReactor* Deny(grpc::CallbackServerContext* ctx, Role role,
                                 std::string_view method,
                                 std::string* identity = nullptr);
  static grpc::ServerUnaryReactor* Refuse(
      grpc::CallbackServerContext* ctx, std::vector<FieldViolation> violations);
  // Runs `work` on the worker thread, then finishes the call with its
  // status (mapped once, by ToGrpcStatus).
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx,
                                std::function<absl::Status()> work);
  // A rule set picked by digest, or id and version (`prefix` names the
  // request field in violations).
  static void ValidateSelector(const v1::GetRuleSetRequest& selector,
                               const std::string& prefix,
                               std::vector<FieldViolation>& violations);
  // The loaded version it picks; null when none.
  std::shared_ptr<const ruleset::CompiledRuleSet> FindLoaded(
      const v1::GetRuleSetRequest& selector) const;
  // Finds it among the loaded versions, then in the store through `store`
  // (which belongs to the calling thread).
  absl::Status Lookup(const v1::GetRuleSetRequest& selector,
                      LazyAuditReader& store,
                      v1::GetRuleSetResponse& out) const;
  // The worker's replayer, on the worker's reader (worker thread only).
  absl::StatusOr<Replayer*> WorkerReplayer();

  const RuleSetRegistry& registry_;
  RuleSetVersions& versions_;
  Authorizer& authorizer_;
  CallLimits& limits_;
  const std::string audit_path_;
  // Used on the worker thread only.
  LazyAuditReader reader_;
  std::unique_ptr<Replayer> replayer_;

  // Last, so that they finish their work before what it uses goes.
  Executor impact_{"impact", 1};
  Executor worker_{"governance", 1};
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_API_GOVERNANCE_SERVICE_H_
