#ifndef RECONNECT_SERVICE_SECURITY_JWT_H_
#define RECONNECT_SERVICE_SECURITY_JWT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace reconnect::service {

// A compact JWS (header.payload.signature) split and decoded, its
// signature not yet checked: nothing in it may be trusted until a JwkSet
// has verified it.
struct CompactJws {
  std::string alg;  // RS256, RS384, ES256, ES384 or EdDSA
  std::string kid;  // empty when the header names none
  nlohmann::json header;
  nlohmann::json claims;      // an object
  std::string signing_input;  // header.payload as sent
  std::string signature;
};

// Splits and decodes `token`, or UNAUTHENTICATED saying why (for the log):
// not three base64url segments, not JSON objects, an algorithm other than
// the five above, or critical header extensions.
absl::StatusOr<CompactJws> ParseCompactJws(std::string_view token);

// The signing keys of a JSON Web Key Set: RSA keys of at least 2048 bits
// (RS256 and RS384, or the one their `alg` names), EC keys on P-256
// (ES256) or P-384 (ES384), and Ed25519 keys (kty OKP, EdDSA). A key may
// carry "exp" (seconds since the epoch): it verifies nothing from then on.
// Signatures are checked by OpenSSL. Immutable, so any thread may verify.
class JwkSet {
 public:
  // Parses a JWKS document ({"keys": [...]}); every key must be usable,
  // and the errors name the key by index and kid.
  static absl::StatusOr<std::shared_ptr<const JwkSet>> Parse(
      std::string_view jwks_json);
  ~JwkSet();
  JwkSet(const JwkSet&) = delete;
  JwkSet& operator=(const JwkSet&) = delete;

  // OK when a key for the token's algorithm (with its kid, when it names
  // one), not expired at `now`, verifies its signature; UNAUTHENTICATED
  // saying why otherwise.
  absl::Status VerifySignature(const CompactJws& jws,
                               absl::Time now = absl::InfinitePast()) const;

  size_t size() const { return keys_.size(); }
  // Whether a key has the id `kid`.
  bool Names(std::string_view kid) const;

 private:
  struct Key {
    std::string kid;
    std::vector<std::string> algs;  // the algorithms it may verify
    std::optional<absl::Time> expires;
    EVP_PKEY* pkey = nullptr;
  };
  JwkSet() = default;
  std::vector<Key> keys_;
};

// How long a token may be valid, and how far clocks may disagree.
struct TokenLifetime {
  absl::Duration clock_skew = absl::Seconds(60);
  // The longest a token may be valid: `exp` at most this long after `iat`
  // (or, without `iat`, after now). A stolen long-lived token is refused.
  absl::Duration max_lifetime = absl::Hours(1);
  bool require_iat = false;
};

// Checks `exp` (required), `iat` and `nbf` against `now`; the token's
// expiry, or UNAUTHENTICATED saying why.
absl::StatusOr<absl::Time> CheckTokenTimes(const nlohmann::json& claims,
                                           absl::Time now,
                                           const TokenLifetime& lifetime);

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
  absl::Duration max_lifetime = absl::Hours(1);
};

// Verifies the bearer JWTs of gRPC callers (SMART Backend Services style),
// signed by a key of one JWKS: `iss`, `aud`, `exp` (required), `nbf` and
// `sub` (required) are checked. Immutable once made, so any thread may
// verify.
class JwtVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(
      std::string_view jwks_json, JwtPolicy policy);

  // The token's claims, or UNAUTHENTICATED saying why (for the log: the
  // reason is never sent to the caller).
  absl::StatusOr<JwtClaims> Verify(std::string_view token,
                                   absl::Time now) const;

  size_t key_count() const { return keys_->size(); }

 private:
  JwtVerifier() = default;

  std::shared_ptr<const JwkSet> keys_;
  JwtPolicy policy_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_JWT_H_
