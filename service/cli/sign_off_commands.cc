#include "service/cli/sign_off_commands.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/layout.h"
#include "service/cli/rule_set_loading.h"
#include "service/common/files.h"
#include "service/security/rule_signatures.h"

// The sign-off flags; --rule_signers and --require_signatures are serve's
// too.
ABSL_FLAG(std::string, rule_signers, "",
          "A JWKS of the keys that sign rule-set versions (serve): every "
          "signature in a version's signatures.json must verify.");
ABSL_FLAG(std::string, require_signatures, "",
          "Roles (clinical_safety_officer, clinical_lead, governance, "
          "comma-separated) that must each have signed a version before it "
          "serves (serve, with --rule_signers), or that verify-signatures "
          "requires.");
ABSL_FLAG(std::string, key, "", "The PEM private key that signs (sign).");
ABSL_FLAG(std::string, role, "",
          "The signer's role (sign): clinical_safety_officer, clinical_lead "
          "or governance.");
ABSL_FLAG(std::string, signer, "",
          "The signer's name, as ruleset.json lists its approvers (sign).");
ABSL_FLAG(std::string, key_id, "",
          "The signing key's id in the signers' JWKS (sign, signer-jwk); "
          "default: its RFC 7638 thumbprint.");
ABSL_FLAG(std::string, keys, "",
          "The signers' JWKS that verify-signatures checks against.");

namespace reconnect::service {

namespace {

absl::StatusOr<SigningKey> ReadSigningKey(const std::string& key_file) {
  absl::StatusOr<std::string> pem = ReadWholeFile(key_file, "--key");
  if (!pem.ok()) return pem.status();
  absl::StatusOr<SigningKey> key = SigningKey::FromPem(*pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--key '", key_file, "' ", key.status().message()));
  }
  return key;
}

// Writes `text` to `path` through a temporary file in the same directory,
// so that a reader never sees half a file.
bool WriteAtomically(const std::filesystem::path& path,
                     const std::string& text) {
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.good()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  return !ec;
}

// The rule set in `dir` when it loads and its test cases (with the hazard
// log's proofs) pass; null, having said why, otherwise.
std::shared_ptr<const ruleset::CompiledRuleSet> LoadPassing(
    const std::string& dir) {
  auto rs = LoadOrReport(dir);
  if (!rs) return nullptr;
  ruleset::TestReport tests = ruleset::RunRuleSetTests(dir, *rs);
  for (auto& issue : ruleset::CheckHazardTests(*rs, tests)) {
    tests.issues.push_back(std::move(issue));
  }
  if (tests.failed() > 0 || !tests.issues.empty() || tests.cases.empty()) {
    std::cerr << dir << ": not signed: its test cases do not pass ("
              << tests.failed() << " failed, " << tests.issues.size()
              << " issue(s)); see reconnect test " << dir << "\n";
    return nullptr;
  }
  return rs;
}

int VerifyOne(const std::string& dir, const JwkSet& keys,
              const std::vector<std::string>& required) {
  auto rs = LoadOrReport(dir);
  if (!rs) return 1;
  std::cout << dir << ": " << rs->metadata().id << " " << rs->metadata().version
            << ", digest " << rs->digest() << "\n";
  absl::StatusOr<std::vector<RuleSetSignature>> signatures =
      ReadSignatures(dir);
  if (!signatures.ok()) {
    std::cout << "  BAD   " << signatures.status().message() << "\n";
    return 1;
  }
  const SignatureCheck check =
      VerifySignatures(*signatures, rs->digest(), keys, absl::Now());
  for (const RuleSetSignature& s : check.verified) {
    std::cout << "  ok    " << s.role << ": " << s.signer << ", " << s.signed_at
              << ", key " << s.key_id << " (" << s.algorithm << ")\n";
  }
  std::vector<std::string> problems = check.problems;
  for (std::string& p : MissingRoles(check.verified, required)) {
    problems.push_back(std::move(p));
  }
  if (!signatures->empty()) {
    for (std::string& p :
         ApproverMismatches(rs->metadata().approvers, *signatures)) {
      problems.push_back(std::move(p));
    }
  }
  if (signatures->empty())
    std::cout << "  unsigned (no " << kSignaturesFile << ")\n";
  for (const std::string& p : problems) std::cout << "  BAD   " << p << "\n";
  std::cout << "  " << check.verified.size() << " valid, " << problems.size()
            << " problem(s)\n";
  return problems.empty() ? 0 : 1;
}

}  // namespace

int RunSign(const SignRequest& request) {
  const std::filesystem::path dir(request.dir);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / ruleset::kMetadataFile, ec)) {
    std::cerr << "reconnect sign: " << request.dir << " is not one version's "
              << "directory (it holds no " << ruleset::kMetadataFile
              << "); sign each version on its own\n";
    return 2;
  }
  absl::StatusOr<SigningKey> key = ReadSigningKey(request.key_file);
  if (!key.ok()) {
    std::cerr << "reconnect sign: " << key.status().message() << "\n";
    return 2;
  }
  auto rs = LoadPassing(request.dir);
  if (!rs) return 1;
  const auto& approvers = rs->metadata().approvers;
  if (std::find(approvers.begin(), approvers.end(), request.signer) ==
      approvers.end()) {
    std::cerr << request.dir << ": not signed: '" << request.signer
              << "' is not among the approvers in " << ruleset::kMetadataFile
              << " (" << absl::StrJoin(approvers, ", ")
              << "); add them there first, which changes the digest, then "
                 "sign\n";
    return 1;
  }
  absl::StatusOr<std::vector<RuleSetSignature>> existing =
      ReadSignatures(request.dir);
  if (!existing.ok()) {
    std::cerr << "reconnect sign: " << existing.status().message()
              << "; fix or remove it first\n";
    return 1;
  }
  const std::string key_id =
      request.key_id.empty() ? key->Thumbprint() : request.key_id;
  absl::StatusOr<RuleSetSignature> signature = SignRuleSet(
      rs->digest(), request.role, request.signer, *key, key_id, absl::Now());
  if (!signature.ok()) {
    std::cerr << "reconnect sign: " << signature.status().message() << "\n";
    return 2;
  }
  std::vector<RuleSetSignature> kept;
  size_t stale = 0;
  for (RuleSetSignature& s : *existing) {
    if (s.digest != rs->digest()) {
      ++stale;
    } else if (s.role != request.role || s.signer != request.signer) {
      kept.push_back(std::move(s));
    }
  }
  kept.push_back(*std::move(signature));
  if (!WriteAtomically(dir / kSignaturesFile, SignaturesJson(kept))) {
    std::cerr << "reconnect sign: cannot write " << (dir / kSignaturesFile)
              << "\n";
    return 1;
  }
  std::cout << request.dir << ": signed " << rs->metadata().id << " "
            << rs->metadata().version << " (digest " << rs->digest() << ") as "
            << request.role << " by " << request.signer << " with key "
            << key_id << " (" << key->algorithm() << "); " << kept.size()
            << " signature(s) in " << kSignaturesFile << "\n";
  if (stale > 0) {
    std::cout << "dropped " << stale
              << " signature(s) over an earlier digest: the rule set changed "
                 "after they were made\n";
  }
  return 0;
}

int RunVerifySignatures(const std::string& dir, const std::string& keys_file,
                        const std::string& required) {
  absl::StatusOr<std::shared_ptr<const JwkSet>> keys =
      ReadSignerKeys(keys_file, "--keys");
  if (!keys.ok()) {
    std::cerr << "reconnect verify-signatures: " << keys.status().message()
              << "\n";
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> roles = ParseSignerRoles(required);
  if (!roles.ok()) {
    std::cerr << "reconnect verify-signatures: --require_signatures: "
              << roles.status().message() << "\n";
    return 2;
  }
  int status = 0;
  for (const std::string& d : VersionDirs(dir)) {
    status |= VerifyOne(d, **keys, *roles);
  }
  return status;
}

int RunSignerJwk(const std::string& key_file, const std::string& key_id) {
  absl::StatusOr<SigningKey> key = ReadSigningKey(key_file);
  if (!key.ok()) {
    std::cerr << "reconnect signer-jwk: " << key.status().message() << "\n";
    return 2;
  }
  const nlohmann::json jwks = {
      {"keys", {key->PublicJwk(key_id.empty() ? key->Thumbprint() : key_id)}}};
  std::cout << jwks.dump(2) << "\n";
  return 0;
}

std::vector<ruleset::RuleSetIssue> SignOffLintIssues(
    const std::string& dir, const ruleset::CompiledRuleSet& rs) {
  std::vector<ruleset::RuleSetIssue> issues;
  auto add = [&issues](std::string message) {
    issues.push_back({kSignaturesFile, 0, 0, "", std::move(message),
                      ruleset::issue_codes::kSignOff});
  };
  absl::StatusOr<std::vector<RuleSetSignature>> signatures =
      ReadSignatures(dir);
  if (!signatures.ok()) {
    // The issue names the file already; the message need not again.
    std::string message(signatures.status().message());
    const std::string path =
        (std::filesystem::path(dir) / kSignaturesFile).string();
    if (absl::StartsWith(message, path)) {
      message = std::string(absl::StripPrefix(
          absl::StripPrefix(message.substr(path.size()), ":"), " "));
    }
    add(std::move(message));
    return issues;
  }
  if (signatures->empty()) return issues;
  for (size_t i = 0; i < signatures->size(); ++i) {
    const RuleSetSignature& s = (*signatures)[i];
    if (s.digest != rs.digest()) {
      add(absl::StrCat("signature ", i, " (", s.role, ", signed by ", s.signer,
                       ") covers digest ", s.digest,
                       ", not this rule set's: it changed after it was "
                       "signed; sign it again"));
    }
  }
  for (std::string& mismatch :
       ApproverMismatches(rs.metadata().approvers, *signatures)) {
    add(std::move(mismatch));
  }
  return issues;
}

std::optional<int> RunSignOffCommand(const std::string& command,
                                     const std::vector<std::string>& args,
                                     std::string& usage_problem) {
  auto usage = [&usage_problem](std::string problem) {
    usage_problem = std::move(problem);
    return 2;
  };
  if (command == "sign") {
    if (args.size() != 1) return usage("sign takes one version directory");
    SignRequest request{args[0], absl::GetFlag(FLAGS_key),
                        absl::GetFlag(FLAGS_role), absl::GetFlag(FLAGS_signer),
                        absl::GetFlag(FLAGS_key_id)};
    if (request.key_file.empty() || request.role.empty() ||
        request.signer.empty()) {
      return usage("sign needs --key, --role and --signer");
    }
    return RunSign(request);
  }
  if (command == "verify-signatures") {
    if (args.size() != 1) {
      return usage("verify-signatures takes one rule-set directory");
    }
    if (absl::GetFlag(FLAGS_keys).empty()) {
      return usage("verify-signatures needs --keys JWKS");
    }
    return RunVerifySignatures(args[0], absl::GetFlag(FLAGS_keys),
                               absl::GetFlag(FLAGS_require_signatures));
  }
  if (command == "signer-jwk") {
    if (!args.empty() || absl::GetFlag(FLAGS_key).empty()) {
      return usage("signer-jwk takes --key KEY.pem and no arguments");
    }
    return RunSignerJwk(absl::GetFlag(FLAGS_key), absl::GetFlag(FLAGS_key_id));
  }
  return std::nullopt;
}

}  // namespace reconnect::service
