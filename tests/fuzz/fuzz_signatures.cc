// libFuzzer target: a rule-set version's signatures.json, as the server and
// `reconnect lint` read it. Any input either parses into signatures or is
// refused with a message that names the file; parsed signatures round-trip
// through the writer; and each one is either verified (over the bundled
// rule set's digest, by a key of the test signers' JWKS) or reported as a
// problem of its own, never both and never neither.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "engine/ruleset/rule_set.h"
#include "service/security/rule_signatures.h"

namespace {

using reconnect::service::RuleSetSignature;

bool Same(const RuleSetSignature& a, const RuleSetSignature& b) {
  return a.digest == b.digest && a.role == b.role && a.signer == b.signer &&
         a.signed_at == b.signed_at && a.key_id == b.key_id &&
         a.algorithm == b.algorithm && a.jws == b.jws;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path source(RECONNECT_SOURCE_DIR);
  static const auto* keys = [] {
    auto read = reconnect::service::ReadSignerKeys(
        (source / "tests/keys/rule-signers.jwks.json").string(), "keys");
    if (!read.ok()) std::abort();
    return new std::shared_ptr<const reconnect::service::JwkSet>(*read);
  }();
  static const auto* digest = [] {
    auto loaded =
        reconnect::ruleset::LoadRuleSet(source / "rules/reconnect/1.1.0");
    if (loaded.rule_set == nullptr) std::abort();
    return new std::string(loaded.rule_set->digest());
  }();
  // A fixed time after the bundled signatures were made, so that a run
  // decides the same way on every day.
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2027, 1, 1, 0, 0, 0),
                                         absl::UTCTimeZone());

  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = reconnect::service::ParseSignatures(text, "fuzz");
  if (!parsed.ok()) {
    if (parsed.status().message().rfind("fuzz", 0) != 0) std::abort();
    return 0;
  }
  // What the writer writes, the reader reads back unchanged.
  auto again = reconnect::service::ParseSignatures(
      reconnect::service::SignaturesJson(*parsed), "again");
  if (!again.ok() || again->size() != parsed->size()) std::abort();
  for (size_t i = 0; i < parsed->size(); ++i) {
    if (!Same((*parsed)[i], (*again)[i])) std::abort();
  }
  const reconnect::service::SignatureCheck check =
      reconnect::service::VerifySignatures(*parsed, *digest, **keys, now);
  if (check.verified.size() + check.problems.size() != parsed->size()) {
    std::abort();
  }
  for (const RuleSetSignature& s : check.verified) {
    if (s.digest != *digest) std::abort();
  }
  for (const std::string& problem : check.problems) {
    if (problem.rfind("signature ", 0) != 0) std::abort();
  }
  reconnect::service::ApproverMismatches({"A", "B"}, *parsed);
  reconnect::service::MissingRoles(check.verified, {"clinical_safety_officer"});
  return 0;
}
