#ifndef RECONNECT_SERVICE_CLI_SIGN_OFF_COMMANDS_H_
#define RECONNECT_SERVICE_CLI_SIGN_OFF_COMMANDS_H_

// Sign-off of rule-set versions: `reconnect sign`, `verify-signatures` and
// `signer-jwk`, and what `lint` checks of signatures.json.

#include <optional>
#include <string>
#include <vector>

#include "engine/ruleset/rule_set.h"

namespace reconnect::service {

struct SignRequest {
  std::string dir;       // one version's directory
  std::string key_file;  // PEM private key: EC P-256 or Ed25519
  std::string role;
  std::string signer;
  std::string key_id;  // empty: the key's RFC 7638 thumbprint
};

// Adds a signature to `request.dir`'s signatures.json, once the version
// loads and passes its test cases and the signer is one of its approvers.
// Signatures over an earlier digest are dropped, and one by the same
// signer in the same role is replaced.
int RunSign(const SignRequest& request);

// Checks every signature of the rule set(s) `dir` names against the JWKS in
// `keys_file`; with `required` roles (comma-separated), each must have
// signed. 0 when every version holds, 1 when one does not, 2 when the keys
// or the roles are refused.
int RunVerifySignatures(const std::string& dir, const std::string& keys_file,
                        const std::string& required);

// Prints the JWKS that publishes the public half of `key_file`.
int RunSignerJwk(const std::string& key_file, const std::string& key_id);

// Runs `command` when it is one of the above (sign, verify-signatures,
// signer-jwk), with its flags; nullopt when it is not. A usage error sets
// `usage_problem`.
std::optional<int> RunSignOffCommand(const std::string& command,
                                     const std::vector<std::string>& args,
                                     std::string& usage_problem);

// What lint finds wrong with `dir`'s signatures.json for `rs` (no keys
// needed): a malformed file, a signature over another digest, signers who
// are not the approvers.
std::vector<ruleset::RuleSetIssue> SignOffLintIssues(
    const std::string& dir, const ruleset::CompiledRuleSet& rs);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_SIGN_OFF_COMMANDS_H_
