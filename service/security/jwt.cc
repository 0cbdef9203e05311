#include "service/security/jwt.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

// The JOSE curves accepted, with their OpenSSL group, coordinate size and
// the algorithm that signs with them.
struct Curve {
  const char* jwk_name;
  const char* group;
  size_t coordinate_bytes;
  const char* alg;
};
constexpr Curve kCurves[] = {{"P-256", "prime256v1", 32, "ES256"},
                             {"P-384", "secp384r1", 48, "ES384"}};

absl::StatusOr<EVP_PKEY*> EcKey(const nlohmann::json& jwk, const Curve& curve) {
  ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y, Member(jwk, "y"));
  if (x.size() != curve.coordinate_bytes ||
      y.size() != curve.coordinate_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("has x or y not ", curve.coordinate_bytes,
                     " bytes long, as ", curve.jwk_name, " needs"));
  }
  const std::string point = absl::StrCat("\x04", x, y);
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME,
                                  curve.group, 0);
  OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                   point.size());
  EVP_PKEY* pkey = PublicKeyFromParams("EC", build);
  OSSL_PARAM_BLD_free(build);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("is not a point on ", curve.jwk_name));
  }
  return pkey;
}

// An Ed25519 public key (kty OKP, RFC 8037): 32 raw bytes in `x`.
absl::StatusOr<EVP_PKEY*> Ed25519Key(const nlohmann::json& jwk) {
  if (!jwk.contains("crv") || jwk["crv"] != "Ed25519") {
    return absl::InvalidArgumentError("has a crv other than Ed25519 (EdDSA)");
  }
  ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
  EVP_PKEY* pkey =
      x.size() == 32
          ? EVP_PKEY_new_raw_public_key(
                EVP_PKEY_ED25519, nullptr,
                reinterpret_cast<const unsigned char*>(x.data()), x.size())
          : nullptr;
  ERR_clear_error();
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        "has an x that is not a 32-byte Ed25519 public key");
  }
  return pkey;
}

// ECDSA signatures in JOSE are r || s, each as long as a coordinate;
// OpenSSL verifies DER.
bool EcdsaRawToDer(const std::string& raw, size_t half, std::string& der) {
  if (raw.size() != 2 * half) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, static_cast<int>(half), nullptr);
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

// `alg` is one of the five accepted: RS256, RS384, ES256, ES384, EdDSA.
bool VerifySignature(EVP_PKEY* key, const std::string& alg,
                     std::string_view signing_input,
                     const std::string& signature) {
  const bool sha384 = absl::EndsWith(alg, "384");
  // EdDSA hashes inside the algorithm: OpenSSL takes no digest for it.
  const EVP_MD* md = alg == "EdDSA" ? nullptr
                     : sha384       ? EVP_sha384()
                                    : EVP_sha256();
  std::string der;
  const std::string* sig = &signature;
  if (alg[0] == 'E' && alg != "EdDSA") {
    if (!EcdsaRawToDer(signature, sha384 ? 48 : 32, der)) return false;
    sig = &der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
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

bool IsAcceptedAlg(std::string_view alg) {
  return alg == "RS256" || alg == "RS384" || alg == "ES256" || alg == "ES384" ||
         alg == "EdDSA";
}

// One key of a JWKS document, `where` naming it in errors.
absl::Status ParseJwk(const nlohmann::json& jwk, const std::string& where,
                      std::string& kid, std::vector<std::string>& algs,
                      std::optional<absl::Time>& expires, EVP_PKEY*& pkey) {
  auto error = [&where](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(where, " ", what));
  };
  if (!jwk.is_object() || !jwk.contains("kty") || !jwk["kty"].is_string()) {
    return error("is not an object with a 'kty'");
  }
  if (jwk.contains("use") && jwk["use"] != "sig") {
    return error("is not for signatures (use is not 'sig')");
  }
  const std::string kty = jwk["kty"].get<std::string>();
  if (jwk.contains("kid")) {
    if (!jwk["kid"].is_string()) return error("has a kid that is not a string");
    kid = jwk["kid"].get<std::string>();
  }
  // "exp" (seconds since the epoch, as in a JWT) retires a key: from then
  // on nothing it signed is trusted.
  if (auto exp = NumericDate(jwk, "exp"); !exp.ok()) {
    return error("has an exp that is not a number");
  } else {
    expires = *exp;
  }
  absl::StatusOr<EVP_PKEY*> key;
  if (kty == "RSA") {
    algs = {"RS256", "RS384"};
    key = RsaKey(jwk);
  } else if (kty == "EC") {
    const Curve* curve = nullptr;
    for (const Curve& c : kCurves) {
      if (jwk.contains("crv") && jwk["crv"] == c.jwk_name) curve = &c;
    }
    if (curve == nullptr) {
      return error("has a crv other than P-256 (ES256) or P-384 (ES384)");
    }
    algs = {curve->alg};
    key = EcKey(jwk, *curve);
  } else if (kty == "OKP") {
    algs = {"EdDSA"};
    key = Ed25519Key(jwk);
  } else {
    return error(absl::StrCat("has kty '", kty,
                              "'; only RSA (RS256, RS384), EC (ES256, "
                              "ES384) and OKP (EdDSA)"));
  }
  if (!key.ok()) return error(std::string(key.status().message()));
  pkey = *key;
  if (jwk.contains("alg")) {
    auto named = std::find(algs.begin(), algs.end(), jwk["alg"]);
    if (named == algs.end()) {
      EVP_PKEY_free(pkey);
      pkey = nullptr;
      return error(
          absl::StrCat("has an alg other than ", absl::StrJoin(algs, " or ")));
    }
    algs = {*named};
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CompactJws> ParseCompactJws(std::string_view token) {
  if (token.size() > kMaxTokenBytes) {
    return Unauthenticated("the token is too large");
  }
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(token.data(), token.size()), '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      parts[2].empty()) {
    return Unauthenticated("the token is not a signed compact JWS");
  }
  std::string header_text, payload_text;
  CompactJws jws;
  auto segment = [&parts](int i) {
    return std::string_view(parts[i].data(), parts[i].size());
  };
  if (!DecodeSegment(segment(0), header_text) ||
      !DecodeSegment(segment(1), payload_text) ||
      !DecodeSegment(segment(2), jws.signature)) {
    return Unauthenticated("a token segment is not base64url");
  }
  jws.header = nlohmann::json::parse(header_text, nullptr, false);
  if (jws.header.is_discarded() || !jws.header.is_object() ||
      !jws.header.contains("alg") || !jws.header["alg"].is_string()) {
    return Unauthenticated("the token header is not JSON with an 'alg'");
  }
  jws.alg = jws.header["alg"].get<std::string>();
  if (!IsAcceptedAlg(jws.alg)) {
    return Unauthenticated(
        absl::StrCat("the token is signed with '", jws.alg,
                     "'; only RS256, RS384, ES256, ES384 and EdDSA are "
                     "accepted"));
  }
  if (jws.header.contains("crit")) {
    return Unauthenticated("the token has critical header extensions");
  }
  if (jws.header.contains("kid")) {
    if (!jws.header["kid"].is_string()) {
      return Unauthenticated("the token's kid is not a string");
    }
    jws.kid = jws.header["kid"].get<std::string>();
  }
  jws.claims = nlohmann::json::parse(payload_text, nullptr, false);
  if (jws.claims.is_discarded() || !jws.claims.is_object()) {
    return Unauthenticated("the token's claims are not a JSON object");
  }
  jws.signing_input =
      std::string(token.substr(0, parts[0].size() + 1 + parts[1].size()));
  return jws;
}

absl::StatusOr<std::shared_ptr<const JwkSet>> JwkSet::Parse(
    std::string_view jwks_json) {
  nlohmann::json jwks = nlohmann::json::parse(jwks_json, nullptr, false);
  if (jwks.is_discarded() || !jwks.is_object() || !jwks.contains("keys") ||
      !jwks["keys"].is_array()) {
    return absl::InvalidArgumentError(
        "the JWKS is not a JSON object with a 'keys' array");
  }
  std::shared_ptr<JwkSet> set(new JwkSet());
  size_t index = 0;
  for (const nlohmann::json& jwk : jwks["keys"]) {
    const std::string where = absl::StrCat(
        "JWKS key ", index++,
        jwk.is_object() && jwk.contains("kid") && jwk["kid"].is_string()
            ? absl::StrCat(" (kid '", jwk["kid"].get<std::string>(), "')")
            : std::string());
    Key key;
    RETURN_IF_ERROR(
        ParseJwk(jwk, where, key.kid, key.algs, key.expires, key.pkey));
    set->keys_.push_back(std::move(key));
  }
  if (set->keys_.empty()) {
    return absl::InvalidArgumentError("the JWKS holds no keys");
  }
  return set;
}

JwkSet::~JwkSet() {
  for (Key& key : keys_) EVP_PKEY_free(key.pkey);
}

bool JwkSet::Names(std::string_view kid) const {
  for (const Key& key : keys_) {
    if (key.kid == kid) return true;
  }
  return false;
}

absl::Status JwkSet::VerifySignature(const CompactJws& jws,
                                     absl::Time now) const {
  bool key_found = false;
  std::optional<absl::Time> expired;
  for (const Key& key : keys_) {
    if (std::find(key.algs.begin(), key.algs.end(), jws.alg) ==
            key.algs.end() ||
        (!jws.kid.empty() && key.kid != jws.kid)) {
      continue;
    }
    if (key.expires.has_value() && now >= *key.expires) {
      expired = key.expires;
      continue;
    }
    key_found = true;
    if (reconnect::service::VerifySignature(key.pkey, jws.alg,
                                            jws.signing_input, jws.signature)) {
      return absl::OkStatus();
    }
  }
  if (!key_found && expired.has_value()) {
    return Unauthenticated(absl::StrCat(
        "the ", jws.alg, " key '", jws.kid, "' expired at ",
        absl::FormatTime(absl::RFC3339_sec, *expired, absl::UTCTimeZone())));
  }
  if (!key_found) {
    return Unauthenticated(absl::StrCat(
        "no ", jws.alg, " key in the JWKS has kid '", jws.kid, "'"));
  }
  return Unauthenticated("the token's signature is invalid");
}

absl::StatusOr<absl::Time> CheckTokenTimes(const nlohmann::json& claims,
                                           absl::Time now,
                                           const TokenLifetime& lifetime) {
  ASSIGN_OR_RETURN(std::optional<absl::Time> exp, NumericDate(claims, "exp"));
  if (!exp.has_value()) return Unauthenticated("the token has no expiry");
  if (now > *exp + lifetime.clock_skew) {
    return Unauthenticated("the token has expired");
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> iat, NumericDate(claims, "iat"));
  if (!iat.has_value() && lifetime.require_iat) {
    return Unauthenticated("the token has no 'iat'");
  }
  // Issued "now" at the latest: a token claiming to be issued in the future
  // cannot stretch its lifetime.
  const absl::Time issued =
      iat.has_value() ? std::min(*iat, now + lifetime.clock_skew) : now;
  if (*exp - issued > lifetime.max_lifetime + lifetime.clock_skew) {
    return Unauthenticated(
        absl::StrCat("the token is valid for longer than the ",
                     absl::FormatDuration(lifetime.max_lifetime), " allowed"));
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> nbf, NumericDate(claims, "nbf"));
  if (nbf.has_value() && now + lifetime.clock_skew < *nbf) {
    return Unauthenticated("the token is not valid yet");
  }
  return *exp;
}

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
  ASSIGN_OR_RETURN(std::shared_ptr<const JwkSet> keys,
                   JwkSet::Parse(jwks_json));
  std::unique_ptr<JwtVerifier> verifier(new JwtVerifier());
  verifier->keys_ = std::move(keys);
  verifier->policy_ = std::move(policy);
  return verifier;
}

absl::StatusOr<JwtClaims> JwtVerifier::Verify(std::string_view token,
                                              absl::Time now) const {
  ASSIGN_OR_RETURN(CompactJws jws, ParseCompactJws(token));
  RETURN_IF_ERROR(keys_->VerifySignature(jws, now));
  const nlohmann::json& claims = jws.claims;
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
  ASSIGN_OR_RETURN(
      absl::Time expiry,
      CheckTokenTimes(claims, now,
                      {policy_.clock_skew, policy_.max_lifetime, false}));
  if (!claims.contains("sub") || !claims["sub"].is_string() ||
      claims["sub"].get<std::string>().empty()) {
    return Unauthenticated("the token names no subject");
  }
  return JwtClaims{claims["sub"].get<std::string>(), policy_.issuer, expiry};
}

}  // namespace reconnect::service
