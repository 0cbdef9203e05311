#include "service/api/governance_service.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/ruleset/diff.h"
#include "service/api/internal/governance_messages.h"
#include "service/api/status_mapping.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

using governance_internal::DeadlineExceeded;
using governance_internal::FillDecision;
using governance_internal::FillFeedback;
using governance_internal::FillSummary;
using governance_internal::Invalid;
using governance_internal::PageSize;
using governance_internal::PageToken;
using governance_internal::ReadTimeRange;

LazyAuditReader::LazyAuditReader(std::string path) : path_(std::move(path)) {}

absl::StatusOr<AuditReader*> LazyAuditReader::Get() {
  if (path_.empty()) {
    return absl::FailedPreconditionError(
        "the audit store is off (--audit=off): no decisions are recorded");
  }
  if (!reader_) {
    ASSIGN_OR_RETURN(reader_, AuditReader::Open(path_));
  }
  return reader_.get();
}

GovernanceService::GovernanceService(const RuleSetRegistry& registry,
                                     RuleSetVersions& versions,
                                     Authorizer& authorizer, CallLimits& limits,
                                     std::string audit_path)
    : registry_(registry),
      versions_(versions),
      authorizer_(authorizer),
      limits_(limits),
      audit_path_(std::move(audit_path)),
      reader_(audit_path_) {}

grpc::ServerUnaryReactor* GovernanceService::Run(
    grpc::CallbackServerContext* ctx, std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::optional<CallSlot> slot = limits_.Admit("Governance");
  if (!slot) {
    reactor->Finish(ToGrpcStatus(Shed()));
    return reactor;
  }
  // Work still queued when its deadline passes is not started.
  const absl::Time deadline = limits_.Deadline(*ctx);
  worker_.Post([reactor, work = std::move(work), deadline,
                held = std::make_shared<CallSlot>(*std::move(slot))] {
    reactor->Finish(
        ToGrpcStatus(absl::Now() < deadline ? work() : DeadlineExceeded()));
  });
  return reactor;
}

absl::StatusOr<Replayer*> GovernanceService::WorkerReplayer() {
  ASSIGN_OR_RETURN(AuditReader * reader, reader_.Get());
  if (!replayer_) replayer_ = std::make_unique<Replayer>(*reader);
  return replayer_.get();
}

grpc::ServerUnaryReactor* GovernanceService::ListRuleSets(
    grpc::CallbackServerContext* ctx, const v1::ListRuleSetsRequest* request,
    v1::ListRuleSetsResponse* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "ListRuleSets")) return denied;
  std::vector<FieldViolation> violations;
  const int size = PageSize(request->page_size(), violations);
  const int64_t offset = PageToken(request->page_token(), violations);
  if (!violations.empty()) return Refuse(ctx, std::move(violations));
  return Run(ctx, [this, size, offset, response] {
    // Loaded versions, then versions only the store remembers; by id and
    // version.
    std::map<std::pair<std::string, std::string>, v1::RuleSetSummary> all;
    const auto active = registry_.Active();
    for (const auto& rs : registry_.All()) {
      FillSummary(*rs, rs == active,
                  all[{rs->metadata().id, rs->metadata().version}]);
    }
    if (!audit_path_.empty()) {
      ASSIGN_OR_RETURN(AuditReader * reader, reader_.Get());
      ASSIGN_OR_RETURN(std::vector<StoredRuleSet> stored,
                       reader->ListRuleSets());
      for (const auto& s : stored) {
        auto [it, inserted] = all.try_emplace({s.id, s.version});
        if (!inserted) continue;
        it->second.set_id(s.id);
        it->second.set_version(s.version);
        it->second.set_digest(s.digest);
      }
    }
    int64_t i = 0;
    for (auto& [key, summary] : all) {
      if (i++ < offset) continue;
      if (response->rule_sets_size() == size) {
        response->set_next_page_token(absl::StrCat(offset + size));
        break;
      }
      *response->add_rule_sets() = std::move(summary);
    }
    for (const auto& r : versions_.refusals()) {
      auto* out = response->add_refusals();
      out->set_dir(r.dir);
      for (const auto& p : r.problems) out->add_problems(p);
    }
    return absl::OkStatus();
  });
}

void GovernanceService::ValidateSelector(
    const v1::GetRuleSetRequest& selector, const std::string& prefix,
    std::vector<FieldViolation>& violations) {
  const bool by_digest = !selector.digest().empty();
  const bool by_version = !selector.id().empty() || !selector.version().empty();
  if (by_digest == by_version) {
    violations.push_back(
        {prefix + "digest", "give either the digest, or the id and version"});
  } else if (by_version &&
             (selector.id().empty() || selector.version().empty())) {
    violations.push_back({prefix + (selector.id().empty() ? "id" : "version"),
                          "id and version go together"});
  }
}

std::shared_ptr<const ruleset::CompiledRuleSet> GovernanceService::FindLoaded(
    const v1::GetRuleSetRequest& selector) const {
  const bool by_digest = !selector.digest().empty();
  for (const auto& rs : registry_.All()) {
    const bool match = by_digest
                           ? rs->digest() == selector.digest()
                           : rs->metadata().id == selector.id() &&
                                 rs->metadata().version == selector.version();
    if (match) return rs;
  }
  return nullptr;
}

absl::Status GovernanceService::Lookup(const v1::GetRuleSetRequest& selector,
                                       LazyAuditReader& store,
                                       v1::GetRuleSetResponse& out) const {
  const bool by_digest = !selector.digest().empty();
  if (const auto rs = FindLoaded(selector)) {
    FillSummary(*rs, rs == registry_.Active(), *out.mutable_rule_set());
    out.set_canonical_content(rs->canonical_content());
    return absl::OkStatus();
  }
  if (by_digest && !audit_path_.empty()) {
    ASSIGN_OR_RETURN(AuditReader * reader, store.Get());
    absl::StatusOr<std::string> content =
        reader->GetRuleSetContent(selector.digest());
    if (content.ok()) {
      ASSIGN_OR_RETURN(std::vector<StoredRuleSet> stored,
                       reader->ListRuleSets());
      for (const auto& s : stored) {
        if (s.digest != selector.digest()) continue;
        out.mutable_rule_set()->set_id(s.id);
        out.mutable_rule_set()->set_version(s.version);
      }
      out.mutable_rule_set()->set_digest(selector.digest());
      out.set_canonical_content(*std::move(content));
      return absl::OkStatus();
    }
    if (content.status().code() != absl::StatusCode::kNotFound) {
      return content.status();
    }
  }
  return absl::NotFoundError(
      by_digest ? absl::StrCat("no rule set has digest ", selector.digest())
                : absl::StrCat("rule set '", selector.id(), "' version '",
                               selector.version(), "' is not loaded"));
}

grpc::ServerUnaryReactor* GovernanceService::GetRuleSet(
    grpc::CallbackServerContext* ctx, const v1::GetRuleSetRequest* request,
    v1::GetRuleSetResponse* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "GetRuleSet")) return denied;
  std::vector<FieldViolation> violations;
  ValidateSelector(*request, "", violations);
  if (!violations.empty()) return Refuse(ctx, std::move(violations));
  return Run(ctx, [this, request, response]() -> absl::Status {
    RETURN_IF_ERROR(Lookup(*request, reader_, *response));
    if (audit_path_.empty()) return absl::OkStatus();
    // The sign-offs the version was served with, as the store keeps them.
    ASSIGN_OR_RETURN(AuditReader * reader, reader_.Get());
    ASSIGN_OR_RETURN(
        std::vector<RuleSetSignature> signatures,
        reader->GetRuleSetSignatures(response->rule_set().digest()));
    for (const RuleSetSignature& s : signatures) {
      v1::RuleSetSignature* out = response->add_signatures();
      out->set_role(s.role);
      out->set_signer(s.signer);
      out->set_signed_at(s.signed_at);
      out->set_key_id(s.key_id);
      out->set_algorithm(s.algorithm);
      out->set_jws(s.jws);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GovernanceService::DiffRuleSets(
    grpc::CallbackServerContext* ctx, const v1::DiffRuleSetsRequest* request,
    v1::DiffRuleSetsResponse* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "DiffRuleSets")) return denied;
  std::vector<FieldViolation> violations;
  ValidateSelector(request->from(), "from.", violations);
  ValidateSelector(request->to(), "to.", violations);
  if (!violations.empty()) return Refuse(ctx, std::move(violations));
  return Run(ctx, [this, request, response] {
    v1::GetRuleSetResponse from, to;
    RETURN_IF_ERROR(Lookup(request->from(), reader_, from));
    RETURN_IF_ERROR(Lookup(request->to(), reader_, to));
    ASSIGN_OR_RETURN(const ruleset::RuleSetDiff diff,
                     ruleset::DiffRuleSets(from.canonical_content(),
                                           to.canonical_content()));
    response->set_from_digest(from.rule_set().digest());
    response->set_to_digest(to.rule_set().digest());
    for (const auto& id : diff.rules_added) response->add_rules_added(id);
    for (const auto& id : diff.rules_removed) response->add_rules_removed(id);
    auto fill = [](const ruleset::FieldChange& c, v1::FieldChange& out) {
      out.set_path(c.path);
      out.set_before(c.before);
      out.set_after(c.after);
    };
    for (const auto& rc : diff.rules_changed) {
      auto* out = response->add_rules_changed();
      out->set_rule_id(rc.rule_id);
      for (const auto& f : rc.fields) fill(f, *out->add_fields());
    }
    for (const auto& c : diff.changes) fill(c, *response->add_changes());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GovernanceService::Deny(
    grpc::CallbackServerContext* ctx, Role role, std::string_view method,
    std::string* identity) {
  std::string caller;
  absl::Status status = authorizer_.Authorize(*ctx, role, method, &caller);
  if (identity != nullptr) *identity = caller;
  if (status.ok()) return nullptr;
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* GovernanceService::Refuse(
    grpc::CallbackServerContext* ctx, std::vector<FieldViolation> violations) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Invalid(std::move(violations)));
  return reactor;
}

grpc::ServerUnaryReactor* GovernanceService::GetDecision(
    grpc::CallbackServerContext* ctx, const v1::GetDecisionRequest* request,
    v1::Decision* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "GetDecision")) return denied;
  if (request->decision_id().empty()) {
    return Refuse(ctx, {{"decision_id", "is required"}});
  }
  return Run(ctx, [this, request, response] {
    ASSIGN_OR_RETURN(AuditReader * reader, reader_.Get());
    ASSIGN_OR_RETURN(const DecisionRecord record,
                     reader->GetDecision(request->decision_id()));
    return FillDecision(record, /*with_content=*/true, *response);
  });
}

grpc::ServerUnaryReactor* GovernanceService::ListDecisions(
    grpc::CallbackServerContext* ctx, const v1::ListDecisionsRequest* request,
    v1::ListDecisionsResponse* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "ListDecisions")) return denied;
  std::vector<FieldViolation> violations;
  DecisionQuery query;
  query.limit = PageSize(request->page_size(), violations);
  query.after_sequence = PageToken(request->page_token(), violations);
  ReadTimeRange(*request, query, violations);
  query.rule_set_digest = request->rule_set_digest();
  query.calling_system = request->calling_system();
  query.caller = request->caller();
  query.metadata_only = request->metadata_only();
  if (!violations.empty()) return Refuse(ctx, std::move(violations));
  return Run(ctx, [this, query, response] {
    ASSIGN_OR_RETURN(AuditReader * reader, reader_.Get());
    DecisionQuery page = query;
    page.limit = query.limit + 1;  // one more: is there a next page?
    ASSIGN_OR_RETURN(const std::vector<DecisionRecord> records,
                     reader->ListDecisions(page));
    for (size_t i = 0; i < records.size(); ++i) {
      if (i == static_cast<size_t>(query.limit)) {
        response->set_next_page_token(absl::StrCat(records[i - 1].sequence));
        break;
      }
      RETURN_IF_ERROR(FillDecision(records[i], !query.metadata_only,
                                   *response->add_decisions()));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GovernanceService::ReplayDecision(
    grpc::CallbackServerContext* ctx, const v1::ReplayDecisionRequest* request,
    v1::ReplayDecisionResponse* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "ReplayDecision")) return denied;
  if (request->decision_id().empty()) {
    return Refuse(ctx, {{"decision_id", "is required"}});
  }
  return Run(ctx, [this, request, response] {
    ASSIGN_OR_RETURN(Replayer * replayer, WorkerReplayer());
    ASSIGN_OR_RETURN(ReplayResult result,
                     replayer->Replay(request->decision_id()));
    response->set_decision_id(result.decision_id);
    response->set_rule_set_digest(result.rule_set_digest);
    response->set_identical(result.identical);
    response->set_differences(std::move(result.differences));
    *response->mutable_recorded() = std::move(result.recorded);
    *response->mutable_replayed() = std::move(result.replayed);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GovernanceService::VerifyAuditTrail(
    grpc::CallbackServerContext* ctx, const v1::VerifyAuditTrailRequest*,
    v1::VerifyAuditTrailResponse* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "VerifyAuditTrail")) {
    return denied;
  }
  return Run(ctx, [this, response] {
    if (audit_path_.empty()) {
      return absl::FailedPreconditionError(
          "the audit store is off (--audit=off)");
    }
    ASSIGN_OR_RETURN(const VerifyReport report,
                     service::VerifyAuditTrail(audit_path_));
    response->set_intact(report.ok());
    response->set_records(report.records);
    response->set_head_sequence(report.head_sequence);
    response->set_head_hash(report.head_hash);
    if (report.broken_sequence) {
      response->set_first_broken_sequence(*report.broken_sequence);
    }
    response->set_problem(report.problem);
    response->set_feedback_records(report.feedback_records);
    response->set_feedback_head_hash(report.feedback_head_hash);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GovernanceService::ListFeedback(
    grpc::CallbackServerContext* ctx, const v1::ListFeedbackRequest* request,
    v1::ListFeedbackResponse* response) {
  if (auto* denied = Deny(ctx, Role::kAuditor, "ListFeedback")) return denied;
  std::vector<FieldViolation> violations;
  FeedbackQuery query;
  query.limit = PageSize(request->page_size(), violations);
  query.after_sequence = PageToken(request->page_token(), violations);
  query.decision_id = request->decision_id();
  query.rule_id = request->rule_id();
  query.rule_set_version = request->rule_set_version();
  if (!violations.empty()) return Refuse(ctx, std::move(violations));
  return Run(ctx, [this, query, response] {
    ASSIGN_OR_RETURN(AuditReader * reader, reader_.Get());
    FeedbackQuery page = query;
    page.limit = query.limit + 1;  // one more: is there a next page?
    ASSIGN_OR_RETURN(const std::vector<FeedbackRecord> records,
                     reader->ListFeedback(page));
    for (size_t i = 0; i < records.size(); ++i) {
      if (i == static_cast<size_t>(query.limit)) {
        response->set_next_page_token(absl::StrCat(records[i - 1].sequence));
        break;
      }
      FillFeedback(records[i], *response->add_feedback());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GovernanceService::ReloadRuleSets(
    grpc::CallbackServerContext* ctx, const v1::ReloadRuleSetsRequest*,
    v1::ReloadRuleSetsResponse* response) {
  std::string caller;
  if (auto* denied = Deny(ctx, Role::kAdmin, "ReloadRuleSets", &caller)) {
    return denied;
  }
  return Run(ctx, [this, caller, response] {
    response->set_loaded(versions_.Reload(caller));
    if (const auto active = registry_.Active()) {
      FillSummary(*active, true, *response->mutable_active());
    }
    for (const auto& refusal : versions_.refusals()) {
      auto* out = response->add_refusals();
      out->set_dir(refusal.dir);
      for (const auto& p : refusal.problems) out->add_problems(p);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GovernanceService::ActivateRuleSet(
    grpc::CallbackServerContext* ctx, const v1::ActivateRuleSetRequest* request,
    v1::ActivateRuleSetResponse* response) {
  std::string caller;
  if (auto* denied = Deny(ctx, Role::kAdmin, "ActivateRuleSet", &caller)) {
    return denied;
  }
  std::vector<FieldViolation> violations;
  if (request->id().empty()) violations.push_back({"id", "is required"});
  if (request->version().empty()) {
    violations.push_back({"version", "is required"});
  }
  if (!violations.empty()) return Refuse(ctx, std::move(violations));
  return Run(ctx, [this, request, caller, response] {
    RETURN_IF_ERROR(
        versions_.Activate(request->id(), request->version(), caller));
    FillSummary(*registry_.Active(), true, *response->mutable_active());
    return absl::OkStatus();
  });
}

}  // namespace reconnect::service
