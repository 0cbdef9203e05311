#include "service/security/cds_clients.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "service/common/files.h"
#include "service/common/log.h"
#include "service/common/status_macros.h"
#include "service/security/https_get.h"

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
  ASSIGN_OR_RETURN(std::shared_ptr<const Clients> clients,
                   verifier->Load(nullptr));
  absl::MutexLock lock(&verifier->mu_);
  verifier->seen_fingerprint_ = verifier->Fingerprint(clients.get());
  verifier->clients_ = std::move(clients);
  return verifier;
}

absl::StatusOr<std::shared_ptr<const CdsClientVerifier::Clients>>
CdsClientVerifier::Load(const Clients* previous) const {
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
  const std::filesystem::path dir = std::filesystem::path(file).parent_path();
  for (const auto& [key, value] : doc.items()) {
    if (key == "clients") continue;
    if (key == "ca_file") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return error("ca_file must be a non-empty string");
      }
      std::filesystem::path path(value.get<std::string>());
      if (path.is_relative()) path = dir / path;
      if (!std::filesystem::is_regular_file(path)) {
        return error(absl::StrCat("ca_file '", path.string(),
                                  "' is not a readable file"));
      }
      clients->ca_file = path.string();
      continue;
    }
    if (key != "max_token_lifetime_seconds") {
      return error(absl::StrCat("unknown member '", key,
                                "' (only 'clients', "
                                "'max_token_lifetime_seconds' and 'ca_file')"));
    }
    if (!value.is_number_integer() || value.get<int64_t>() <= 0 ||
        value.get<int64_t>() > 3600) {
      return error("max_token_lifetime_seconds must be from 1 to 3600");
    }
    clients->max_lifetime = absl::Seconds(value.get<int64_t>());
  }
  size_t index = 0;
  for (const json& entry : doc["clients"]) {
    const std::string where = absl::StrCat("clients[", index++, "]");
    if (!entry.is_object())
      return error(absl::StrCat(where, " is not an object"));
    for (const auto& [key, value] : entry.items()) {
      if (key != "issuer" && key != "jwks" && key != "jwks_file" &&
          key != "jwks_url") {
        return error(absl::StrCat(where, ": unknown member '", key,
                                  "' (issuer, and jwks, jwks_file or "
                                  "jwks_url)"));
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
    if (entry.contains("jwks") + entry.contains("jwks_file") +
            entry.contains("jwks_url") !=
        1) {
      return error(absl::StrCat(
          where, " must give its keys as one of jwks, jwks_file or jwks_url"));
    }
    Client client;
    std::string jwks;
    if (entry.contains("jwks_url")) {
      const json& url = entry["jwks_url"];
      if (!url.is_string()) {
        return error(absl::StrCat(where, ".jwks_url must be a string"));
      }
      if (absl::Status s = CheckHttpsUrl(url.get<std::string>()); !s.ok()) {
        return error(absl::StrCat(where, ".jwks_url ", s.message()));
      }
      client.jwks_url = url.get<std::string>();
      const Client* before = nullptr;
      if (previous != nullptr) {
        auto it = previous->by_issuer.find(issuer);
        if (it != previous->by_issuer.end() &&
            it->second.jwks_url == client.jwks_url) {
          before = &it->second;
        }
      }
      if (before != nullptr) {
        client.keys = before->keys;
        client.fetched_at = before->fetched_at;
      } else if (absl::StatusOr<std::shared_ptr<const JwkSet>> keys =
                     Fetch(issuer, client.jwks_url, clients->ca_file);
                 keys.ok()) {
        client.keys = *std::move(keys);
        client.fetched_at = absl::Now();
      }
      // A server that cannot be reached now is tried again later: the
      // other clients are served meanwhile, and this one's tokens refused.
      clients->by_issuer.emplace(issuer, std::move(client));
      continue;
    }
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

absl::StatusOr<std::shared_ptr<const JwkSet>> CdsClientVerifier::Fetch(
    const std::string& issuer, const std::string& url,
    const std::string& ca_file) const {
  HttpsGetOptions get;
  get.ca_file = ca_file;
  get.timeout = options_.jwks_timeout;
  absl::StatusOr<std::shared_ptr<const JwkSet>> keys =
      [&]() -> absl::StatusOr<std::shared_ptr<const JwkSet>> {
    ASSIGN_OR_RETURN(std::string body, HttpsGet(url, get));
    absl::StatusOr<std::shared_ptr<const JwkSet>> parsed = JwkSet::Parse(body);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the key set at ", url,
                       " is not usable: ", parsed.status().message()));
    }
    return parsed;
  }();
  if (keys.ok()) {
    Log(LogLevel::kInfo, "cds_client_keys_fetched",
        {{"issuer", issuer}, {"url", url}, {"keys", (*keys)->size()}});
  } else {
    Log(LogLevel::kWarning, "cds_client_keys_fetch_failed",
        {{"issuer", issuer},
         {"reason", std::string(keys.status().message())},
         {"still_using", "the keys fetched before, if any"}});
  }
  return keys;
}

void CdsClientVerifier::WantKeys(const std::string& issuer) {
  absl::MutexLock lock(&mu_);
  fetching_[issuer].wanted = true;
}

void CdsClientVerifier::RefreshPublishedKeys(absl::Time now) {
  const std::shared_ptr<const Clients> current = clients();
  std::vector<std::string> due;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [issuer, client] : current->by_issuer) {
      if (client.jwks_url.empty()) continue;
      Fetching& f = fetching_[issuer];
      const bool stale = client.keys == nullptr || f.wanted ||
                         now - client.fetched_at >= options_.jwks_refresh;
      if (stale && now - f.attempted_at >= options_.jwks_retry) {
        f.attempted_at = now;
        f.wanted = false;
        due.push_back(issuer);
      }
    }
  }
  if (due.empty()) return;
  auto next = std::make_shared<Clients>(*current);
  bool changed = false;
  for (const std::string& issuer : due) {
    Client& client = next->by_issuer.at(issuer);
    absl::StatusOr<std::shared_ptr<const JwkSet>> keys =
        Fetch(issuer, client.jwks_url, next->ca_file);
    if (!keys.ok()) continue;
    client.keys = *std::move(keys);
    client.fetched_at = now;
    changed = true;
  }
  if (!changed) return;
  absl::MutexLock lock(&mu_);
  // Only this thread replaces the list, but a reload may have meanwhile.
  if (clients_ == current) clients_ = std::move(next);
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
  absl::Status status = ReloadList();
  // Published keys are fetched whether or not the list changed, or loads.
  RefreshPublishedKeys(absl::Now());
  return status;
}

absl::Status CdsClientVerifier::ReloadList() {
  const std::shared_ptr<const Clients> current = clients();
  const std::string fingerprint = Fingerprint(current.get());
  {
    absl::MutexLock lock(&mu_);
    if (fingerprint == seen_fingerprint_) return absl::OkStatus();
    // Remembered even when the load fails, so one bad edit is reported once.
    seen_fingerprint_ = fingerprint;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Clients> loaded, Load(current.get()));
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
  const Client& trusted = client->second;
  if (!trusted.jwks_url.empty()) {
    if (auto jku = jws.header.find("jku");
        jku != jws.header.end() && *jku != trusted.jwks_url) {
      return Unauthenticated(
          absl::StrCat("the token's jku is not the JWKS URL allowlisted for '",
                       issuer, "'"));
    }
    if (trusted.keys == nullptr) {
      WantKeys(issuer);
      return Unauthenticated(
          absl::StrCat("the keys of '", issuer, "' have not been fetched yet"));
    }
    if (!jws.kid.empty() && !trusted.keys->Names(jws.kid)) WantKeys(issuer);
  }
  RETURN_IF_ERROR(trusted.keys->VerifySignature(jws, now));
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
