#include "service/security/rule_signatures.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "openssl/bio.h"
#include "openssl/bn.h"
#include "openssl/core_names.h"
#include "openssl/ecdsa.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/sha.h"
#include "service/common/files.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

using json = nlohmann::json;

constexpr const char* kRoles[] = {"clinical_safety_officer", "clinical_lead",
                                  "governance"};
// The JWS "typ" of a sign-off, so that no other JWS passes for one.
constexpr char kSignatureType[] = "reconnect-rule-set-signature";
constexpr size_t kMaxSignaturesBytes = 1 << 20;
// How far a signer's clock may run ahead of the server's.
constexpr absl::Duration kClockSkew = absl::Minutes(5);
// The fields each entry of signatures.json must have, all strings.
constexpr const char* kFields[] = {"digest", "role",      "signer", "signed_at",
                                   "key_id", "algorithm", "jws"};

std::string Base64Url(std::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()),
                            &out);
  return out;
}

std::string RolesText() {
  return absl::StrJoin(std::begin(kRoles), std::end(kRoles), ", ");
}

// What the JWS payload must say for `s`.
json Payload(const RuleSetSignature& s) {
  return {{"digest", s.digest},
          {"role", s.role},
          {"signer", s.signer},
          {"signed_at", s.signed_at}};
}

absl::StatusOr<RuleSetSignature> ParseEntry(const json& entry,
                                            const std::string& where) {
  if (!entry.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " is not an object"));
  }
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    const std::string& key = it.key();
    if (std::none_of(std::begin(kFields), std::end(kFields),
                     [&key](const char* f) { return key == f; })) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " has an unknown field '", key, "'"));
    }
  }
  RuleSetSignature s;
  std::string* const targets[] = {&s.digest,    &s.role,   &s.signer,
                                  &s.signed_at, &s.key_id, &s.algorithm,
                                  &s.jws};
  for (size_t i = 0; i < std::size(kFields); ++i) {
    auto it = entry.find(kFields[i]);
    if (it == entry.end() || !it->is_string() ||
        it->get<std::string>().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " needs '", kFields[i], "' as a non-empty string"));
    }
    *targets[i] = it->get<std::string>();
  }
  if (!IsSignerRole(s.role)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " has role '", s.role, "'; a role is one of ", RolesText()));
  }
  if (s.algorithm != "ES256" && s.algorithm != "EdDSA") {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " has algorithm '", s.algorithm,
                     "'; rule sets are signed with ES256 or EdDSA"));
  }
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, s.signed_at, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " has signed_at '", s.signed_at, "', not an RFC 3339 time"));
  }
  return s;
}

// The payload of the JWS of `s` when it agrees with the readable fields;
// the problem otherwise.
absl::StatusOr<CompactJws> CheckEnvelope(const RuleSetSignature& s) {
  ASSIGN_OR_RETURN(CompactJws jws, ParseCompactJws(s.jws));
  if (jws.alg != s.algorithm) {
    return absl::UnauthenticatedError(absl::StrCat(
        "its jws is signed with ", jws.alg, ", not ", s.algorithm));
  }
  if (jws.kid != s.key_id) {
    return absl::UnauthenticatedError(absl::StrCat(
        "its jws names key '", jws.kid, "', not '", s.key_id, "'"));
  }
  if (jws.header.value("typ", "") != kSignatureType) {
    return absl::UnauthenticatedError(
        absl::StrCat("its jws is not of type ", kSignatureType));
  }
  if (jws.claims != Payload(s)) {
    return absl::UnauthenticatedError(
        "its jws payload does not say what its fields say");
  }
  return jws;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

}  // namespace

bool IsSignerRole(std::string_view role) {
  return std::any_of(std::begin(kRoles), std::end(kRoles),
                     [role](const char* r) { return role == r; });
}

absl::StatusOr<std::vector<std::string>> ParseSignerRoles(
    std::string_view list) {
  std::vector<std::string> roles;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(list.data(), list.size()), ',',
                      absl::SkipEmpty())) {
    const std::string role(absl::StripAsciiWhitespace(part));
    if (!IsSignerRole(role)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", role, "' is not a signer role; a role is one of ", RolesText()));
    }
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
      roles.push_back(role);
    }
  }
  return roles;
}

absl::StatusOr<std::vector<RuleSetSignature>> ReadSignatures(
    const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / kSignaturesFile;
  const std::string where = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return std::vector<RuleSetSignature>{};
  if (!std::filesystem::is_regular_file(path, ec) ||
      std::filesystem::file_size(path, ec) > kMaxSignaturesBytes || ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " is not a readable file of at most 1 MiB"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " cannot be read"));
  }
  return ParseSignatures(text.str(), where);
}

absl::StatusOr<std::vector<RuleSetSignature>> ParseSignatures(
    std::string_view text, const std::string& where) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " is not valid JSON (UTF-8)"));
  }
  if (!doc.is_object() || !doc.contains("signatures") ||
      !doc["signatures"].is_array() || doc.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " is not a JSON object holding only a 'signatures' array"));
  }
  std::vector<RuleSetSignature> out;
  for (size_t i = 0; i < doc["signatures"].size(); ++i) {
    ASSIGN_OR_RETURN(RuleSetSignature s,
                     ParseEntry(doc["signatures"][i],
                                absl::StrCat(where, ": signature ", i)));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const JwkSet>> ReadSignerKeys(
    const std::string& path, const std::string& flag) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, flag));
  absl::StatusOr<std::shared_ptr<const JwkSet>> keys = JwkSet::Parse(text);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", path, "': ", keys.status().message()));
  }
  return keys;
}

std::string SignaturesJson(const std::vector<RuleSetSignature>& signatures) {
  json list = json::array();
  for (const RuleSetSignature& s : signatures) {
    json entry = Payload(s);
    entry["key_id"] = s.key_id;
    entry["algorithm"] = s.algorithm;
    entry["jws"] = s.jws;
    list.push_back(std::move(entry));
  }
  return json{{"signatures", list}}.dump(2) + "\n";
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : pkey_(other.pkey_), algorithm_(std::move(other.algorithm_)) {
  other.pkey_ = nullptr;
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  std::swap(pkey_, other.pkey_);
  std::swap(algorithm_, other.algorithm_);
  return *this;
}

SigningKey::~SigningKey() { EVP_PKEY_free(pkey_); }

absl::StatusOr<SigningKey> SigningKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey =
      bio == nullptr ? nullptr
                     : PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ERR_clear_error();
  if (pkey == nullptr) {
    return absl::InvalidArgumentError("is not a PEM private key");
  }
  SigningKey key;
  key.pkey_ = pkey;
  if (EVP_PKEY_is_a(pkey, "ED25519") == 1) {
    key.algorithm_ = "EdDSA";
    return key;
  }
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_is_a(pkey, "EC") == 1 &&
      EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                     sizeof(group), &len) == 1 &&
      std::string_view(group) == "prime256v1") {
    key.algorithm_ = "ES256";
    return key;
  }
  ERR_clear_error();
  return absl::InvalidArgumentError(
      "is neither an EC P-256 (ES256) nor an Ed25519 (EdDSA) private key");
}

nlohmann::json SigningKey::PublicJwk(const std::string& kid) const {
  json jwk;
  if (algorithm_ == "EdDSA") {
    unsigned char raw[32];
    size_t len = sizeof(raw);
    EVP_PKEY_get_raw_public_key(pkey_, raw, &len);
    jwk = {
        {"crv", "Ed25519"},
        {"kty", "OKP"},
        {"x", Base64Url(std::string_view(reinterpret_cast<char*>(raw), len))}};
  } else {
    unsigned char point[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(pkey_, OSSL_PKEY_PARAM_PUB_KEY, point,
                                    sizeof(point), &len);
    const auto* p = reinterpret_cast<const char*>(point);
    jwk = {{"crv", "P-256"},
           {"kty", "EC"},
           {"x", Base64Url(std::string_view(p + 1, 32))},
           {"y", Base64Url(std::string_view(p + 33, 32))}};
  }
  if (!kid.empty()) {
    jwk["kid"] = kid;
    jwk["alg"] = algorithm_;
    jwk["use"] = "sig";
  }
  return jwk;
}

std::string SigningKey::Thumbprint() const {
  // RFC 7638: the required members only, in lexicographic order, compact;
  // nlohmann::json keeps object members sorted.
  const std::string members = PublicJwk("").dump();
  unsigned char hash[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(members.data()), members.size(),
         hash);
  return Base64Url(
      std::string_view(reinterpret_cast<char*>(hash), sizeof(hash)));
}

absl::StatusOr<std::string> SigningKey::Sign(std::string_view input) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = algorithm_ == "EdDSA" ? nullptr : EVP_sha256();
  size_t len = 0;
  std::string sig;
  bool ok = ctx != nullptr &&
            EVP_DigestSignInit(ctx, nullptr, md, nullptr, pkey_) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len,
                           reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) return absl::InternalError("OpenSSL could not sign");
  if (algorithm_ == "EdDSA") return sig;
  // OpenSSL writes ECDSA signatures as DER; JOSE wants r || s, 32 bytes
  // each.
  const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(len));
  if (ecdsa == nullptr) return absl::InternalError("OpenSSL wrote no ECDSA");
  std::string raw(64, '\0');
  const bool converted =
      BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa),
                   reinterpret_cast<unsigned char*>(raw.data()), 32) == 32 &&
      BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa),
                   reinterpret_cast<unsigned char*>(raw.data()) + 32, 32) == 32;
  ECDSA_SIG_free(ecdsa);
  if (!converted) return absl::InternalError("an ECDSA value is too long");
  return raw;
}

absl::StatusOr<RuleSetSignature> SignRuleSet(const std::string& digest,
                                             const std::string& role,
                                             const std::string& signer,
                                             const SigningKey& key,
                                             const std::string& key_id,
                                             absl::Time now) {
  if (!IsSignerRole(role)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", role, "' is not a signer role; a role is one of ", RolesText()));
  }
  if (signer.empty() || key_id.empty()) {
    return absl::InvalidArgumentError("a signer name and a key id are needed");
  }
  RuleSetSignature s;
  s.digest = digest;
  s.role = role;
  s.signer = signer;
  s.signed_at =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone());
  s.key_id = key_id;
  s.algorithm = key.algorithm();
  const json header = {
      {"alg", s.algorithm}, {"kid", key_id}, {"typ", kSignatureType}};
  const std::string input =
      absl::StrCat(Base64Url(header.dump()), ".", Base64Url(Payload(s).dump()));
  ASSIGN_OR_RETURN(std::string signature, key.Sign(input));
  s.jws = absl::StrCat(input, ".", Base64Url(signature));
  return s;
}

SignatureCheck VerifySignatures(const std::vector<RuleSetSignature>& signatures,
                                std::string_view digest, const JwkSet& keys,
                                absl::Time now) {
  SignatureCheck out;
  for (size_t i = 0; i < signatures.size(); ++i) {
    const RuleSetSignature& s = signatures[i];
    auto problem = [&](const std::string& why) {
      out.problems.push_back(absl::StrCat("signature ", i, " (", s.role,
                                          ", signed by ", s.signer, ") ", why));
    };
    if (s.digest != digest) {
      problem(absl::StrCat("covers digest ", s.digest.substr(0, 12),
                           "…, not this rule set's ",
                           std::string(digest.substr(0, 12)),
                           "…: the rule set changed after it was signed"));
      continue;
    }
    absl::StatusOr<CompactJws> jws = CheckEnvelope(s);
    if (!jws.ok()) {
      problem(std::string(jws.status().message()));
      continue;
    }
    if (!keys.Names(s.key_id)) {
      problem(absl::StrCat("is by key '", s.key_id,
                           "', which the signers' JWKS does not hold"));
      continue;
    }
    absl::Time signed_at;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, s.signed_at, &signed_at, &error) ||
        signed_at > now + kClockSkew) {
      problem(absl::StrCat("has signed_at ", s.signed_at,
                           ", which is not a past time"));
      continue;
    }
    if (absl::Status verified = keys.VerifySignature(*jws, now);
        !verified.ok()) {
      problem(absl::StrCat("does not verify: ", verified.message()));
      continue;
    }
    out.verified.push_back(s);
  }
  return out;
}

std::vector<std::string> MissingRoles(
    const std::vector<RuleSetSignature>& verified,
    const std::vector<std::string>& required) {
  std::vector<std::string> out;
  for (const std::string& role : required) {
    const bool signed_off = std::any_of(
        verified.begin(), verified.end(),
        [&role](const RuleSetSignature& s) { return s.role == role; });
    if (!signed_off) {
      out.push_back(absl::StrCat("no valid signature by the ", role,
                                 ", which this server requires"));
    }
  }
  return out;
}

std::vector<std::string> ApproverMismatches(
    const std::vector<std::string>& approvers,
    const std::vector<RuleSetSignature>& signatures) {
  std::vector<std::string> out;
  std::set<std::string> signers;
  for (const RuleSetSignature& s : signatures) signers.insert(s.signer);
  for (const std::string& approver : approvers) {
    if (signers.count(approver) == 0) {
      out.push_back(absl::StrCat("approver '", approver,
                                 "' in ruleset.json has not signed it"));
    }
  }
  for (const std::string& signer : signers) {
    if (std::find(approvers.begin(), approvers.end(), signer) ==
        approvers.end()) {
      out.push_back(absl::StrCat("'", signer,
                                 "' signed it but is not among the approvers "
                                 "in ruleset.json"));
    }
  }
  return out;
}

SignatureCheck SignOffPolicy::Check(const std::filesystem::path& dir,
                                    const std::string& digest,
                                    const std::vector<std::string>& approvers,
                                    absl::Time now) const {
  absl::StatusOr<std::vector<RuleSetSignature>> signatures =
      ReadSignatures(dir);
  if (!signatures.ok()) {
    return {{}, {std::string(signatures.status().message())}};
  }
  SignatureCheck check = VerifySignatures(*signatures, digest, *keys_, now);
  for (std::string& missing : MissingRoles(check.verified, required_)) {
    check.problems.push_back(std::move(missing));
  }
  if (!signatures->empty()) {
    for (std::string& mismatch : ApproverMismatches(approvers, *signatures)) {
      check.problems.push_back(std::move(mismatch));
    }
  }
  if (!check.problems.empty()) check.verified.clear();
  return check;
}

}  // namespace reconnect::service
