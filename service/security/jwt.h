#ifndef RECONNECT_SERVICE_SECURITY_JWT_H_
#define RECONNECT_SERVICE_SECURITY_JWT_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace reconnect::service {

// What a verified bearer token says about its caller.
struct JwtClaims {
  std::string subject;
  std::string issuer;
  absl::Time expiry;
};

// What a token must satisfy besides its signature.
struct JwtPolicy {
  std::string issuer;    // `iss` must equal it
  std::string audience;  // `aud` (a string or a list) must hold it
  absl::Duration clock_skew = absl::Seconds(60);
  // The longest a token may be valid: `exp` at most this long after `iat`
  // (or, without `iat`, after now). A stolen long-lived token is refused.
  absl::Duration max_lifetime = absl::Hours(1);
};

// Verifies bearer JWTs as EHRs send them (SMART Backend Services style):
// compact JWS signed RS256 (RSA, at least 2048 bits) or ES256 (P-256), with
// the public keys from a JWKS document. Signatures are checked by OpenSSL.
// `iss`, `aud`, `exp` (required), `nbf` and `sub` (required) are checked.
// Immutable once made, so any thread may verify.
class JwtVerifier {
 public:
  // Parses a JWKS document ({"keys": [...]}); every key must be a usable
  // RSA or EC P-256 signing key, and the errors name the key by index and
  // kid.
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(
      std::string_view jwks_json, JwtPolicy policy);
  ~JwtVerifier();

  // The token's claims, or UNAUTHENTICATED saying why (for the log: the
  // reason is never sent to the caller).
  absl::StatusOr<JwtClaims> Verify(std::string_view token,
                                   absl::Time now) const;

  size_t key_count() const { return keys_.size(); }

 private:
  struct Key {
    std::string kid;
    std::string alg;  // RS256 or ES256
    EVP_PKEY* pkey = nullptr;
  };
  JwtVerifier() = default;

  std::vector<Key> keys_;
  JwtPolicy policy_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_JWT_H_
