#include "service/security/jwt.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "openssl/bn.h"
#include "openssl/core_names.h"
#include "openssl/ecdsa.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/param_build.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

constexpr size_t kMaxTokenBytes = 16 * 1024;

// base64url without padding, as JOSE writes it; anything else is refused.
bool DecodeSegment(std::string_view in, std::string& out) {
  for (char c : in) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_') {
      return false;
    }
  }
  return absl::WebSafeBase64Unescape(absl::string_view(in.data(), in.size()),
                                     &out);
}

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

BnPtr ToBignum(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

// Builds a public key from OpenSSL parameters ("RSA" or "EC").
EVP_PKEY* PublicKeyFromParams(const char* type, OSSL_PARAM_BLD* build) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(build);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  ERR_clear_error();
  return pkey;
}

absl::StatusOr<std::string> Member(const nlohmann::json& key,
                                   const char* name) {
  auto it = key.find(name);
  if (it == key.end() || !it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("has no string member '", name, "'"));
  }
  std::string decoded;
  if (!DecodeSegment(it->get<std::string>(), decoded) || decoded.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("member '", name, "' is not base64url"));
  }
  return decoded;
}

absl::StatusOr<EVP_PKEY*> RsaKey(const nlohmann::json& jwk) {
  ASSIGN_OR_RETURN(std::string n, Member(jwk, "n"));
  ASSIGN_OR_RETURN(std::string e, Member(jwk, "e"));
  if (n.size() * 8 < 2048) {
    return absl::InvalidArgumentError(absl::StrCat(
        "is a ", n.size() * 8, "-bit RSA key; at least 2048 bits are needed"));
  }
  BnPtr bn_n = ToBignum(n), bn_e = ToBignum(e);
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  EVP_PKEY* pkey = PublicKeyFromParams("RSA", build);
  OSSL_PARAM_BLD_free(build);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError("is not a valid RSA public key");
  }
  return pkey;
}

absl::StatusOr<EVP_PKEY*> EcKey(const nlohmann::json& jwk) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "P-256") {
    return absl::InvalidArgumentError(
        "has crv other than P-256 (only ES256 is accepted)");
  }
  ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y, Member(jwk, "y"));
  if (x.size() != 32 || y.size() != 32) {
    return absl::InvalidArgumentError("has x or y not 32 bytes long");
  }
  const std::string point = absl::StrCat("\x04", x, y);
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME,
                                  "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                   point.size());
  EVP_PKEY* pkey = PublicKeyFromParams("EC", build);
  OSSL_PARAM_BLD_free(build);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError("is not a point on P-256");
  }
  return pkey;
}

// ES256 signatures are r || s, 32 bytes each; OpenSSL verifies DER.
bool EcdsaRawToDer(const std::string& raw, std::string& der) {
  if (raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32,
                        nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32,
                        32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* out = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &out);
  ECDSA_SIG_free(sig);
  if (len <= 0) return false;
  der.assign(reinterpret_cast<char*>(out), len);
  OPENSSL_free(out);
  return true;
}

bool VerifySignature(EVP_PKEY* key, const std::string& alg,
                     std::string_view signing_input,
                     const std::string& signature) {
  std::string der;
  const std::string* sig = &signature;
  if (alg == "ES256") {
    if (!EcdsaRawToDer(signature, der)) return false;
    sig = &der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(
          ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

absl::Status Unauthenticated(const std::string& why) {
  return absl::UnauthenticatedError(why);
}

// A NumericDate claim (seconds since the epoch), or nullopt when absent.
absl::StatusOr<std::optional<absl::Time>> NumericDate(
    const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return Unauthenticated(absl::StrCat("claim '", name, "' is not a number"));
  }
  return absl::FromUnixSeconds(0) + absl::Seconds(it->get<double>());
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(
    std::string_view jwks_json, JwtPolicy policy) {
  if (policy.issuer.empty() || policy.audience.empty()) {
    return absl::InvalidArgumentError(
        "a JWT issuer and audience are both required (--jwt_issuer, "
        "--jwt_audience)");
  }
  if (policy.max_lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "the longest token lifetime must be positive "
        "(--jwt_max_lifetime_seconds)");
  }
  nlohmann::json jwks = nlohmann::json::parse(jwks_json, nullptr, false);
  if (jwks.is_discarded() || !jwks.is_object() || !jwks.contains("keys") ||
      !jwks["keys"].is_array()) {
    return absl::InvalidArgumentError(
        "the JWKS is not a JSON object with a 'keys' array");
  }
  std::unique_ptr<JwtVerifier> verifier(new JwtVerifier());
  verifier->policy_ = std::move(policy);
  size_t index = 0;
  for (const nlohmann::json& jwk : jwks["keys"]) {
    const std::string where = absl::StrCat(
        "JWKS key ", index++,
        jwk.is_object() && jwk.contains("kid") && jwk["kid"].is_string()
            ? absl::StrCat(" (kid '", jwk["kid"].get<std::string>(), "')")
            : std::string());
    if (!jwk.is_object() || !jwk.contains("kty") || !jwk["kty"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " is not an object with a 'kty'"));
    }
    if (jwk.contains("use") && jwk["use"] != "sig") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " is not for signatures (use is not 'sig')"));
    }
    const std::string kty = jwk["kty"].get<std::string>();
    Key key;
    key.alg = kty == "RSA" ? "RS256" : "ES256";
    if (kty != "RSA" && kty != "EC") {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " has kty '", kty, "'; only RSA (RS256) and EC (ES256)"));
    }
    if (jwk.contains("alg") && jwk["alg"] != key.alg) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " has an alg other than ", key.alg));
    }
    if (jwk.contains("kid")) {
      if (!jwk["kid"].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " has a kid that is not a string"));
      }
      key.kid = jwk["kid"].get<std::string>();
    }
    absl::StatusOr<EVP_PKEY*> pkey = kty == "RSA" ? RsaKey(jwk) : EcKey(jwk);
    if (!pkey.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " ", pkey.status().message()));
    }
    key.pkey = *pkey;
    verifier->keys_.push_back(std::move(key));
  }
  if (verifier->keys_.empty()) {
    return absl::InvalidArgumentError("the JWKS holds no keys");
  }
  return verifier;
}

JwtVerifier::~JwtVerifier() {
  for (Key& key : keys_) EVP_PKEY_free(key.pkey);
}

absl::StatusOr<JwtClaims> JwtVerifier::Verify(std::string_view token,
                                              absl::Time now) const {
  if (token.size() > kMaxTokenBytes) {
    return Unauthenticated("the token is too large");
  }
  std::vector<absl::string_view> split =
      absl::StrSplit(absl::string_view(token.data(), token.size()), '.');
  std::vector<std::string_view> parts;
  for (absl::string_view p : split) parts.emplace_back(p.data(), p.size());
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      parts[2].empty()) {
    return Unauthenticated("the token is not a signed compact JWS");
  }
  std::string header_text, payload_text, signature;
  if (!DecodeSegment(parts[0], header_text) ||
      !DecodeSegment(parts[1], payload_text) ||
      !DecodeSegment(parts[2], signature)) {
    return Unauthenticated("a token segment is not base64url");
  }
  const nlohmann::json header =
      nlohmann::json::parse(header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object() || !header.contains("alg") ||
      !header["alg"].is_string()) {
    return Unauthenticated("the token header is not JSON with an 'alg'");
  }
  const std::string alg = header["alg"].get<std::string>();
  if (alg != "RS256" && alg != "ES256") {
    return Unauthenticated(
        absl::StrCat("the token is signed with '", alg,
                     "'; only RS256 and ES256 are accepted"));
  }
  if (header.contains("crit")) {
    return Unauthenticated("the token has critical header extensions");
  }
  std::string kid;
  if (header.contains("kid")) {
    if (!header["kid"].is_string()) {
      return Unauthenticated("the token's kid is not a string");
    }
    kid = header["kid"].get<std::string>();
  }
  const std::string_view signing_input =
      token.substr(0, parts[0].size() + 1 + parts[1].size());
  bool key_found = false, verified = false;
  for (const Key& key : keys_) {
    if (key.alg != alg || (!kid.empty() && key.kid != kid)) continue;
    key_found = true;
    if (VerifySignature(key.pkey, alg, signing_input, signature)) {
      verified = true;
      break;
    }
  }
  if (!key_found) {
    return Unauthenticated(
        absl::StrCat("no ", alg, " key in the JWKS has kid '", kid, "'"));
  }
  if (!verified) return Unauthenticated("the token's signature is invalid");

  const nlohmann::json claims =
      nlohmann::json::parse(payload_text, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return Unauthenticated("the token's claims are not a JSON object");
  }
  if (!claims.contains("iss") || claims["iss"] != policy_.issuer) {
    return Unauthenticated("the token's issuer is not the one trusted");
  }
  bool audience_ok = false;
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) {
      audience_ok = *aud == policy_.audience;
    } else if (aud->is_array()) {
      for (const auto& a : *aud) audience_ok |= a == policy_.audience;
    }
  }
  if (!audience_ok) {
    return Unauthenticated("the token is not for this service's audience");
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> exp, NumericDate(claims, "exp"));
  if (!exp.has_value()) return Unauthenticated("the token has no expiry");
  if (now > *exp + policy_.clock_skew) {
    return Unauthenticated("the token has expired");
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> iat, NumericDate(claims, "iat"));
  // Issued "now" at the latest: a token claiming to be issued in the future
  // cannot stretch its lifetime.
  const absl::Time issued =
      iat.has_value() ? std::min(*iat, now + policy_.clock_skew) : now;
  if (*exp - issued > policy_.max_lifetime + policy_.clock_skew) {
    return Unauthenticated(
        absl::StrCat("the token is valid for longer than the ",
                     absl::FormatDuration(policy_.max_lifetime), " allowed"));
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> nbf, NumericDate(claims, "nbf"));
  if (nbf.has_value() && now + policy_.clock_skew < *nbf) {
    return Unauthenticated("the token is not valid yet");
  }
  if (!claims.contains("sub") || !claims["sub"].is_string() ||
      claims["sub"].get<std::string>().empty()) {
    return Unauthenticated("the token names no subject");
  }
  return JwtClaims{claims["sub"].get<std::string>(), policy_.issuer, *exp};
}

}  // namespace reconnect::service
