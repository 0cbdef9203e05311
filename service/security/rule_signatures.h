#ifndef RECONNECT_SERVICE_SECURITY_RULE_SIGNATURES_H_
#define RECONNECT_SERVICE_SECURITY_RULE_SIGNATURES_H_

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "service/common/rule_set_signature.h"
#include "service/security/jwt.h"

namespace reconnect::service {

// Sign-offs of rule-set versions. A version directory may hold
// signatures.json: {"signatures": [{digest, role, signer, signed_at, key_id,
// algorithm, jws}, ...]}. Each `jws` is a compact JWS (ES256 or EdDSA, with
// the signing key's kid) whose payload is {digest, role, signer,
// signed_at}; the readable fields must say the same. The file is not part
// of the rule set's digest, so signing never changes what is signed.
inline constexpr char kSignaturesFile[] = "signatures.json";

// Whether `role` is one a sign-off may carry: clinical_safety_officer,
// clinical_lead or governance.
bool IsSignerRole(std::string_view role);

// The roles of a comma-separated list (--require_signatures), or
// INVALID_ARGUMENT naming one that is not a signer role.
absl::StatusOr<std::vector<std::string>> ParseSignerRoles(
    std::string_view list);

// The signatures of `dir`'s signatures.json: none when the file is absent;
// INVALID_ARGUMENT naming the file, the entry and the field when it cannot
// be read or is malformed.
absl::StatusOr<std::vector<RuleSetSignature>> ReadSignatures(
    const std::filesystem::path& dir);

// The signers' public keys in the JWKS file `path`, or INVALID_ARGUMENT
// naming the file as `flag` gave it and what is wrong.
absl::StatusOr<std::shared_ptr<const JwkSet>> ReadSignerKeys(
    const std::string& path, const std::string& flag);

// The signatures in `text`, signatures.json's content; INVALID_ARGUMENT
// naming it as `where`, the entry and the field when it is malformed.
absl::StatusOr<std::vector<RuleSetSignature>> ParseSignatures(
    std::string_view text, const std::string& where);

// signatures.json's text for `signatures`.
std::string SignaturesJson(const std::vector<RuleSetSignature>& signatures);

// A private key that signs rule sets: EC P-256 (ES256) or Ed25519 (EdDSA),
// from PEM. Signing is done by OpenSSL.
class SigningKey {
 public:
  // INVALID_ARGUMENT when `pem` is not a private key of those two kinds.
  static absl::StatusOr<SigningKey> FromPem(std::string_view pem);
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  const std::string& algorithm() const { return algorithm_; }
  // The public key as a JWK with `kid`, "alg" and "use": "sig", for the
  // signers' JWKS.
  nlohmann::json PublicJwk(const std::string& kid) const;
  // The RFC 7638 thumbprint of the public key (base64url SHA-256): the key
  // id used when none is given.
  std::string Thumbprint() const;
  // The JOSE signature of `input` (r || s for ES256).
  absl::StatusOr<std::string> Sign(std::string_view input) const;

 private:
  SigningKey() = default;
  EVP_PKEY* pkey_ = nullptr;
  std::string algorithm_;
};

// A new sign-off of `digest` by `signer` in `role`, made at `now` with
// `key`, whose id in the signers' JWKS is `key_id`.
absl::StatusOr<RuleSetSignature> SignRuleSet(const std::string& digest,
                                             const std::string& role,
                                             const std::string& signer,
                                             const SigningKey& key,
                                             const std::string& key_id,
                                             absl::Time now);

// What checking a version's signatures found. Fail closed: every signature
// that does not verify is a problem, whatever the others say.
struct SignatureCheck {
  std::vector<RuleSetSignature> verified;
  std::vector<std::string> problems;
};

// Checks each of `signatures` against the rule set's `digest` and the
// signers' `keys` at `now`: an unknown key id, an expired key, a signature
// over another digest, a payload that disagrees with its fields, a time in
// the future or an invalid signature is a problem.
SignatureCheck VerifySignatures(const std::vector<RuleSetSignature>& signatures,
                                std::string_view digest, const JwkSet& keys,
                                absl::Time now);

// A problem for each of `required` with no verified signature.
std::vector<std::string> MissingRoles(
    const std::vector<RuleSetSignature>& verified,
    const std::vector<std::string>& required);

// Problems when ruleset.json's `approvers` and the signers differ: an
// approver who has not signed, or a signer who is not an approver.
std::vector<std::string> ApproverMismatches(
    const std::vector<std::string>& approvers,
    const std::vector<RuleSetSignature>& signatures);

// What a server checks before a version serves: every signature in its
// directory verifies, each required role has signed, and the signers are
// its approvers. Immutable, so any thread may check.
class SignOffPolicy {
 public:
  SignOffPolicy(std::shared_ptr<const JwkSet> keys,
                std::vector<std::string> required)
      : keys_(std::move(keys)), required_(std::move(required)) {}

  SignatureCheck Check(const std::filesystem::path& dir,
                       const std::string& digest,
                       const std::vector<std::string>& approvers,
                       absl::Time now) const;

  const std::vector<std::string>& required() const { return required_; }

 private:
  std::shared_ptr<const JwkSet> keys_;
  std::vector<std::string> required_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_RULE_SIGNATURES_H_
