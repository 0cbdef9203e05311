#include "service/security/cds_clients.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "service/common/files.h"
#include "service/common/log.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

using nlohmann::json;

// CDS Hooks recommends that a client's tokens expire within five minutes.
constexpr int kDefaultMaxLifetimeSeconds = 300;
constexpr size_t kMaxJtiBytes = 256;

absl::Status Unauthenticated(std::string_view why) {
  return absl::UnauthenticatedError(std::string(why));
}

// The optional string claim `name`: "" when absent, an error when present
// but not a non-empty string.
absl::StatusOr<std::string> OptionalString(const json& claims,
                                           const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::string();
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Unauthenticated(
        absl::StrCat("the token's '", name, "' is not a non-empty string"));
  }
  return it->get<std::string>();
}

bool AudienceIs(const json& claims, std::string_view audience) {
  auto aud = claims.find("aud");
  if (aud == claims.end()) return false;
  if (aud->is_string()) return *aud == audience;
  if (!aud->is_array()) return false;
  for (const json& a : *aud) {
    if (a == audience) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> CdsCaller::Identities() const {
  std::vector<std::string> identities;
  if (!tenant.empty()) {
    identities.push_back(
        absl::StrCat("cds:", issuer, " (tenant ", tenant, ")"));
  }
  identities.push_back(absl::StrCat("cds:", issuer));
  return identities;
}

absl::StatusOr<std::unique_ptr<CdsClientVerifier>> CdsClientVerifier::Create(
    CdsClientOptions options) {
  if (options.file.empty()) {
    return absl::InvalidArgumentError(
        "the CDS client list is required (--cds_clients)");
  }
  if (options.replay_capacity == 0) {
    return absl::InvalidArgumentError(
        "the replay cache must hold at least one token id");
  }
  std::unique_ptr<CdsClientVerifier> verifier(
      new CdsClientVerifier(std::move(options)));
  ASSIGN_OR_RETURN(std::shared_ptr<const Clients> clients, verifier->Load());
  absl::MutexLock lock(&verifier->mu_);
  verifier->seen_fingerprint_ = verifier->Fingerprint(clients.get());
  verifier->clients_ = std::move(clients);
  return verifier;
}

absl::StatusOr<std::shared_ptr<const CdsClientVerifier::Clients>>
CdsClientVerifier::Load() const {
  const std::string& file = options_.file;
  auto error = [&file](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat("the CDS client list '", file, "': ", what));
  };
  ASSIGN_OR_RETURN(std::string text,
                   ReadWholeFile(file, "the CDS client list (--cds_clients)"));
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false,
                               /*ignore_comments=*/true);
  if (doc.is_discarded()) return error("is not valid JSON");
  if (!doc.is_object() || !doc.contains("clients") ||
      !doc["clients"].is_array()) {
    return error("must be an object with a 'clients' array");
  }
  auto clients = std::make_shared<Clients>();
  clients->max_lifetime = absl::Seconds(kDefaultMaxLifetimeSeconds);
  for (const auto& [key, value] : doc.items()) {
    if (key == "clients") continue;
    if (key != "max_token_lifetime_seconds") {
      return error(
          absl::StrCat("unknown member '", key,
                       "' (only 'clients' and 'max_token_lifetime_seconds')"));
    }
    if (!value.is_number_integer() || value.get<int64_t>() <= 0 ||
        value.get<int64_t>() > 3600) {
      return error("max_token_lifetime_seconds must be from 1 to 3600");
    }
    clients->max_lifetime = absl::Seconds(value.get<int64_t>());
  }
  const std::filesystem::path dir = std::filesystem::path(file).parent_path();
  size_t index = 0;
  for (const json& entry : doc["clients"]) {
    const std::string where = absl::StrCat("clients[", index++, "]");
    if (!entry.is_object())
      return error(absl::StrCat(where, " is not an object"));
    for (const auto& [key, value] : entry.items()) {
      if (key != "issuer" && key != "jwks" && key != "jwks_file") {
        return error(absl::StrCat(where, ": unknown member '", key,
                                  "' (issuer, and jwks or jwks_file)"));
      }
    }
    if (!entry.contains("issuer") || !entry["issuer"].is_string() ||
        entry["issuer"].get<std::string>().empty()) {
      return error(absl::StrCat(where, ".issuer must be a non-empty string"));
    }
    const std::string issuer = entry["issuer"].get<std::string>();
    if (clients->by_issuer.count(issuer) > 0) {
      return error(absl::StrCat(where, " lists the issuer '", issuer,
                                "' a second time"));
    }
    if (entry.contains("jwks") == entry.contains("jwks_file")) {
      return error(
          absl::StrCat(where, " must give its keys as jwks or jwks_file"));
    }
    Client client;
    std::string jwks;
    if (entry.contains("jwks")) {
      jwks = entry["jwks"].dump();
    } else {
      if (!entry["jwks_file"].is_string() ||
          entry["jwks_file"].get<std::string>().empty()) {
        return error(
            absl::StrCat(where, ".jwks_file must be a non-empty string"));
      }
      std::filesystem::path path(entry["jwks_file"].get<std::string>());
      if (path.is_relative()) path = dir / path;
      client.jwks_file = path.string();
      absl::StatusOr<std::string> read =
          ReadWholeFile(client.jwks_file, absl::StrCat(where, ".jwks_file"));
      if (!read.ok()) return error(std::string(read.status().message()));
      jwks = *std::move(read);
    }
    absl::StatusOr<std::shared_ptr<const JwkSet>> keys = JwkSet::Parse(jwks);
    if (!keys.ok()) {
      return error(
          absl::StrCat(where, " ('", issuer, "'): ", keys.status().message()));
    }
    client.keys = *std::move(keys);
    clients->by_issuer.emplace(issuer, std::move(client));
  }
  return std::shared_ptr<const Clients>(std::move(clients));
}

std::string CdsClientVerifier::Fingerprint(const Clients* clients) const {
  std::string fingerprint = FileFingerprint(options_.file);
  if (clients != nullptr) {
    for (const auto& [issuer, client] : clients->by_issuer) {
      absl::StrAppend(&fingerprint, "|", FileFingerprint(client.jwks_file));
    }
  }
  return fingerprint;
}

std::shared_ptr<const CdsClientVerifier::Clients> CdsClientVerifier::clients()
    const {
  absl::MutexLock lock(&mu_);
  return clients_;
}

size_t CdsClientVerifier::client_count() const {
  return clients()->by_issuer.size();
}

absl::Status CdsClientVerifier::ReloadIfChanged() {
  const std::shared_ptr<const Clients> current = clients();
  const std::string fingerprint = Fingerprint(current.get());
  {
    absl::MutexLock lock(&mu_);
    if (fingerprint == seen_fingerprint_) return absl::OkStatus();
    // Remembered even when the load fails, so one bad edit is reported once.
    seen_fingerprint_ = fingerprint;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Clients> loaded, Load());
  absl::MutexLock lock(&mu_);
  // The new list may name other key files: their fingerprint is what the
  // next look compares with.
  seen_fingerprint_ = Fingerprint(loaded.get());
  const size_t count = loaded->by_issuer.size();
  clients_ = std::move(loaded);
  Log(LogLevel::kInfo, "cds_clients_reloaded", {{"clients", count}});
  return absl::OkStatus();
}

absl::StatusOr<CdsCaller> CdsClientVerifier::Verify(
    std::string_view authorization, std::string_view audience, absl::Time now) {
  if (authorization.empty()) {
    return Unauthenticated("no Authorization header");
  }
  if (authorization.size() < 7 ||
      !absl::EqualsIgnoreCase(absl::string_view(authorization.data(), 7),
                              "bearer ")) {
    return Unauthenticated("the Authorization header is not a bearer token");
  }
  const absl::string_view token = absl::StripAsciiWhitespace(
      absl::string_view(authorization.data() + 7, authorization.size() - 7));
  ASSIGN_OR_RETURN(CompactJws jws, ParseCompactJws(std::string_view(
                                       token.data(), token.size())));
  const json& claims = jws.claims;
  if (!claims.contains("iss") || !claims["iss"].is_string()) {
    return Unauthenticated("the token names no issuer");
  }
  const std::string issuer = claims["iss"].get<std::string>();
  const std::shared_ptr<const Clients> current = clients();
  auto client = current->by_issuer.find(issuer);
  if (client == current->by_issuer.end()) {
    // The issuer is the caller's claim, not yet verified: logged, but it
    // names no patient and no secret.
    return Unauthenticated(
        absl::StrCat("the issuer '", issuer, "' is not a trusted CDS client"));
  }
  RETURN_IF_ERROR(client->second.keys->VerifySignature(jws));
  if (!AudienceIs(claims, audience)) {
    return Unauthenticated(absl::StrCat(
        "the token's aud is not the URL called (", std::string(audience), ")"));
  }
  ASSIGN_OR_RETURN(absl::Time expiry,
                   CheckTokenTimes(claims, now,
                                   {options_.clock_skew, current->max_lifetime,
                                    /*require_iat=*/true}));
  ASSIGN_OR_RETURN(std::string jti, OptionalString(claims, "jti"));
  if (jti.empty()) return Unauthenticated("the token has no 'jti'");
  if (jti.size() > kMaxJtiBytes) {
    return Unauthenticated("the token's 'jti' is longer than 256 bytes");
  }
  CdsCaller caller;
  caller.issuer = issuer;
  ASSIGN_OR_RETURN(caller.tenant, OptionalString(claims, "tenant"));
  ASSIGN_OR_RETURN(caller.subject, OptionalString(claims, "sub"));
  // Last, so that only a token that is otherwise valid takes a place.
  switch (replay_.Admit(issuer, jti, expiry + options_.clock_skew, now)) {
    case ReplayCache::Result::kFirstUse:
      return caller;
    case ReplayCache::Result::kReplayed:
      return Unauthenticated("the token's jti was used before (a replay)");
    case ReplayCache::Result::kFull:
      return Unauthenticated(
          "the replay cache is full of unexpired token ids; refusing rather "
          "than risk a replay");
  }
  return Unauthenticated("unreachable");
}

}  // namespace reconnect::service
