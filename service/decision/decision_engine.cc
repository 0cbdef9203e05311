#include "service/decision/decision_engine.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {
constexpr size_t kMaxCallingSystemLength = 128;
constexpr size_t kMaxRuleSetRefLength = 64;
}  // namespace

DecisionEngine::DecisionEngine(const RuleSetRegistry& registry)
    : registry_(registry), validator_(v1::Assessment::descriptor()) {}

namespace {

// Random bytes for decision ids, drawn from OpenSSL's generator a block at a
// time per thread: one RAND_bytes call serves about a hundred ids, rather
// than one call (and its lock) per decision.
class RandomPool {
 public:
  // `n` fresh bytes into `out`; false when the generator fails.
  bool Take(unsigned char* out, size_t n) {
    if (used_ + n > sizeof(bytes_)) {
      if (RAND_bytes(bytes_, sizeof(bytes_)) != 1) return false;
      used_ = 0;
    }
    std::memcpy(out, bytes_ + used_, n);
    // Each byte is handed out once.
    OPENSSL_cleanse(bytes_ + used_, n);
    used_ += n;
    return true;
  }

 private:
  unsigned char bytes_[1024];
  size_t used_ = sizeof(bytes_);
};

}  // namespace

absl::StatusOr<std::string> NewDecisionId(absl::Time now) {
  thread_local RandomPool pool;
  unsigned char b[16];
  if (!pool.Take(b + 6, sizeof(b) - 6)) {
    return absl::InternalError(
        "the random generator failed to produce a decision id");
  }
  const uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(now));
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = (b[6] & 0x0F) | 0x70;
  b[8] = (b[8] & 0x3F) | 0x80;
  // 8-4-4-4-12 hex digits.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  size_t at = 0;
  for (int i = 0; i < 16; ++i) {
    if (at == 8 || at == 13 || at == 18 || at == 23) ++at;
    id[at++] = kHex[b[i] >> 4];
    id[at++] = kHex[b[i] & 0x0F];
  }
  return id;
}

absl::Status DecisionEngine::Evaluate(
    const v1::EvaluateRequest& request, v1::EvaluateResponse& response,
    std::vector<FieldViolation>& violations) const {
  std::shared_ptr<const ruleset::CompiledRuleSet> rule_set;
  if (observer_ == nullptr) {
    return Decide(request, response, violations, rule_set);
  }
  const absl::Time start = absl::Now();
  absl::Status status = Decide(request, response, violations, rule_set);
  observer_->Evaluated(rule_set.get(), status.code(),
                       status.ok() ? &response.recommendation() : nullptr,
                       absl::Now() - start);
  return status;
}

absl::Status DecisionEngine::Decide(
    const v1::EvaluateRequest& request, v1::EvaluateResponse& response,
    std::vector<FieldViolation>& violations,
    std::shared_ptr<const ruleset::CompiledRuleSet>& rule_set) const {
  if (!request.has_assessment()) {
    violations.push_back({"assessment", "is required"});
  } else {
    validator_.Validate(request.assessment(), "assessment", violations);
  }
  if (request.calling_system().size() > kMaxCallingSystemLength) {
    violations.push_back(
        {"calling_system", absl::StrCat("at most ", kMaxCallingSystemLength,
                                        " bytes are allowed")});
  }
  if (request.rule_set_id().size() > kMaxRuleSetRefLength ||
      request.rule_set_version().size() > kMaxRuleSetRefLength) {
    violations.push_back(
        {"rule_set_id",
         absl::StrCat("rule_set_id and rule_set_version take at most ",
                      kMaxRuleSetRefLength, " bytes")});
  }
  if (!v1::Explanation_IsValid(request.explanation())) {
    violations.push_back(
        {"explanation", absl::StrCat("unknown Explanation value ",
                                     static_cast<int>(request.explanation()),
                                     "; EXPLANATION_NONE or "
                                     "EXPLANATION_WHY_NOT")});
  }
  if (request.rule_set_id().empty() != request.rule_set_version().empty()) {
    violations.push_back(
        {request.rule_set_id().empty() ? "rule_set_id" : "rule_set_version",
         "pin a rule set with both rule_set_id and rule_set_version, or "
         "neither"});
  }
  // The rule set is resolved even when the request has schema violations,
  // so that the caller hears about every problem in one answer.
  const bool pin_is_valid =
      request.rule_set_id().empty() == request.rule_set_version().empty();
  if (pin_is_valid && request.rule_set_id().empty()) {
    rule_set = registry_.Active();
    if (!rule_set) return absl::UnavailableError("no rule set is loaded");
  } else if (pin_is_valid) {
    rule_set =
        registry_.Find(request.rule_set_id(), request.rule_set_version());
    if (!rule_set) {
      return absl::NotFoundError(
          absl::StrCat("rule set '", request.rule_set_id(), "' version '",
                       request.rule_set_version(), "' is not loaded"));
    }
  }
  if (rule_set && request.has_assessment()) {
    for (auto& v : rule_set->ValidateInput(request.assessment())) {
      violations.push_back(
          {absl::StrCat("assessment.", v.field), std::move(v.description)});
    }
  }
  if (!violations.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request has ", violations.size(), " invalid field(s)"));
  }
  ASSIGN_OR_RETURN(std::string id, NewDecisionId());
  response.set_decision_id(std::move(id));
  auto* ref = response.mutable_rule_set();
  ref->set_id(rule_set->metadata().id);
  ref->set_version(rule_set->metadata().version);
  ref->set_digest(rule_set->digest());
  if (request.explanation() == v1::EXPLANATION_WHY_NOT) {
    ruleset::CompiledRuleSet::Explain explain;
    explain.why_not = response.mutable_why_not();
    explain.missing_data = response.mutable_missing_data();
    explain.missing_data_budget = missing_data_budget_;
    rule_set->Evaluate(request.assessment(), *response.mutable_recommendation(),
                       nullptr, &explain);
  } else {
    rule_set->Evaluate(request.assessment(),
                       *response.mutable_recommendation());
  }
  return absl::OkStatus();
}

}  // namespace reconnect::service
