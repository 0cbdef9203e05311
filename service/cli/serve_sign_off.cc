// `serve --rule_signers JWKS --require_signatures ROLES`: no version serves
// without the sign-offs the operator asks for.

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "service/cli/serve.h"
#include "service/common/log.h"
#include "service/decision/rule_set_versions.h"
#include "service/security/rule_signatures.h"

namespace reconnect::service {

bool SetSignOffCheck(const ServeOptions& options, RuleSetVersions& versions) {
  auto refuse = [](const std::string& reason) {
    Log(LogLevel::kError, "flag_refused", {{"reason", reason}});
    return false;
  };
  if (options.rule_signers.empty()) {
    if (!options.require_signatures.empty()) {
      return refuse(
          "--require_signatures needs --rule_signers, the JWKS of the keys "
          "that sign rule-set versions");
    }
    return true;
  }
  absl::StatusOr<std::vector<std::string>> roles =
      ParseSignerRoles(options.require_signatures);
  if (!roles.ok()) {
    return refuse(
        absl::StrCat("--require_signatures: ", roles.status().message()));
  }
  absl::StatusOr<std::shared_ptr<const JwkSet>> keys =
      ReadSignerKeys(options.rule_signers, "--rule_signers");
  if (!keys.ok()) return refuse(std::string(keys.status().message()));
  Log(LogLevel::kInfo, "rule_set_signatures_checked",
      {{"signers_keys", (*keys)->size()},
       {"required_roles", absl::StrJoin(*roles, ",")}});
  // The keys are read again at every reload, so that a rotated JWKS takes
  // effect with the rule sets; one that no longer reads refuses every
  // version, and the versions loaded before keep serving.
  versions.set_approval_check([file = options.rule_signers, required = *roles](
                                  const std::filesystem::path& dir,
                                  const ruleset::CompiledRuleSet& rs) {
    RuleSetVersions::Approval approval;
    absl::StatusOr<std::shared_ptr<const JwkSet>> keys =
        ReadSignerKeys(file, "--rule_signers");
    if (!keys.ok()) {
      approval.problems.push_back(std::string(keys.status().message()));
      return approval;
    }
    const SignatureCheck check =
        SignOffPolicy(*keys, required)
            .Check(dir, rs.digest(), rs.metadata().approvers, absl::Now());
    approval.problems = check.problems;
    approval.signatures = check.verified;
    if (approval.problems.empty() && check.verified.empty()) {
      Log(LogLevel::kInfo, "rule_set_unsigned",
          {{"dir", dir.string()}, {"digest", rs.digest()}});
    } else if (approval.problems.empty()) {
      std::vector<std::string> signed_by;
      for (const RuleSetSignature& s : check.verified) {
        signed_by.push_back(s.role);
      }
      Log(LogLevel::kInfo, "rule_set_signatures_verified",
          {{"dir", dir.string()},
           {"digest", rs.digest()},
           {"roles", absl::StrJoin(signed_by, ",")}});
    }
    return approval;
  });
  return true;
}

}  // namespace reconnect::service
