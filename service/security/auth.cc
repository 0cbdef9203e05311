#include "service/security/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/security/auth_context.h"
#include "nlohmann/json.hpp"
#include "service/common/files.h"
#include "service/common/log.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

constexpr Role kRoles[] = {Role::kEvaluator, Role::kAuditor, Role::kAdmin,
                           Role::kClinician, Role::kMdt};
constexpr size_t kMaxCachedTokens = 4096;

unsigned Bit(Role role) { return 1u << static_cast<unsigned>(role); }

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kEvaluator:
      return "evaluator";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
    case Role::kClinician:
      return "clinician";
    case Role::kMdt:
      return "mdt";
  }
  return "unknown";
}

absl::StatusOr<Authorizer::Policy> Authorizer::ParsePolicy(
    std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(
      json, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("is not valid JSON");
  }
  if (!doc.is_object() || !doc.contains("bindings") ||
      !doc["bindings"].is_array()) {
    return absl::InvalidArgumentError(
        "must be an object with a 'bindings' array");
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "bindings") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown member '", key, "' (only 'bindings')"));
    }
  }
  Policy policy;
  size_t index = 0;
  for (const nlohmann::json& binding : doc["bindings"]) {
    const std::string where = absl::StrCat("bindings[", index++, "]");
    if (!binding.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " is not an object"));
    }
    std::string identity, tenant;
    for (const auto& [key, value] : binding.items()) {
      if (key == "roles") continue;
      if (key != "jwt_subject" && key != "certificate" && key != "cds_client" &&
          key != "tenant") {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": unknown member '", key,
            "' (jwt_subject, certificate or cds_client, and roles)"));
      }
      if (!value.is_string() || value.get<std::string>().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".", key, " must be a non-empty string"));
      }
      if (key == "tenant") {
        tenant = value.get<std::string>();
        continue;
      }
      if (!identity.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where,
                         " names two identities; give one of jwt_subject, "
                         "certificate or cds_client"));
      }
      identity = key == "jwt_subject"
                     ? absl::StrCat("jwt:", value.get<std::string>())
                 : key == "certificate"
                     ? absl::StrCat("cert:", value.get<std::string>())
                     : value.get<std::string>();
      if (key == "cds_client") identity = absl::StrCat("cds:", identity);
    }
    if (identity.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where,
                       " names no identity (jwt_subject, certificate or "
                       "cds_client)"));
    }
    if (!tenant.empty()) {
      if (!absl::StartsWith(identity, "cds:")) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".tenant goes only with cds_client"));
      }
      absl::StrAppend(&identity, " (tenant ", tenant, ")");
    }
    if (!binding.contains("roles") || !binding["roles"].is_array() ||
        binding["roles"].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".roles must be a non-empty list"));
    }
    unsigned bits = 0;
    size_t r = 0;
    for (const nlohmann::json& role : binding["roles"]) {
      const std::string at = absl::StrCat(where, ".roles[", r++, "]");
      bool known = false;
      for (Role candidate : kRoles) {
        if (role.is_string() && role == RoleName(candidate)) {
          bits |= Bit(candidate);
          known = true;
        }
      }
      if (!known) {
        return absl::InvalidArgumentError(absl::StrCat(
            at,
            " is not a role; the roles are evaluator, auditor, admin, "
            "clinician, mdt"));
      }
    }
    if (policy.count(identity) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " binds ", identity, " a second time"));
    }
    policy[identity] = bits;
  }
  return policy;
}

std::unique_ptr<Authorizer> Authorizer::Off() {
  return std::unique_ptr<Authorizer>(new Authorizer(AuthOptions{}));
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(
    AuthOptions options) {
  if (options.policy_file.empty()) {
    return absl::InvalidArgumentError(
        "authorization needs a policy file (--policy)");
  }
  std::unique_ptr<Authorizer> authorizer(new Authorizer(std::move(options)));
  ASSIGN_OR_RETURN(std::shared_ptr<const State> state, authorizer->Load());
  absl::MutexLock lock(&authorizer->mu_);
  authorizer->state_ = std::move(state);
  authorizer->seen_fingerprint_ = authorizer->Fingerprint();
  return authorizer;
}

std::string Authorizer::Fingerprint() const {
  return absl::StrCat(FileFingerprint(options_.policy_file), "|",
                      FileFingerprint(options_.jwks_file));
}

absl::StatusOr<std::shared_ptr<const Authorizer::State>> Authorizer::Load()
    const {
  auto state = std::make_shared<State>();
  ASSIGN_OR_RETURN(std::string policy_text,
                   ReadWholeFile(options_.policy_file, "the policy file"));
  absl::StatusOr<Policy> policy = ParsePolicy(policy_text);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the policy file '", options_.policy_file,
                     "': ", policy.status().message()));
  }
  state->policy = *std::move(policy);
  if (!options_.jwks_file.empty()) {
    ASSIGN_OR_RETURN(std::string jwks,
                     ReadWholeFile(options_.jwks_file, "the JWKS file"));
    absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier =
        JwtVerifier::Create(jwks, options_.jwt);
    if (!verifier.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the JWKS file '", options_.jwks_file,
                       "': ", verifier.status().message()));
    }
    state->verifier = *std::move(verifier);
  }
  return state;
}

std::shared_ptr<const Authorizer::State> Authorizer::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Status Authorizer::ReloadIfChanged() {
  if (!enabled()) return absl::OkStatus();
  const std::string fingerprint = Fingerprint();
  {
    absl::MutexLock lock(&mu_);
    if (fingerprint == seen_fingerprint_) return absl::OkStatus();
    // Remembered even when the load fails, so one bad edit is reported once.
    seen_fingerprint_ = fingerprint;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const State> loaded, Load());
  const size_t bindings = loaded->policy.size();
  const size_t keys = loaded->verifier ? loaded->verifier->key_count() : 0;
  {
    absl::MutexLock lock(&mu_);
    state_ = std::move(loaded);
  }
  // Last, so that whoever reads it finds the new policy and keys in force.
  Log(LogLevel::kInfo, "auth_reloaded",
      {{"bindings", bindings}, {"keys", keys}});
  return absl::OkStatus();
}

absl::StatusOr<JwtClaims> Authorizer::VerifyCached(const std::string& token,
                                                   const State& state) const {
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&state.cache_mu);
    auto it = state.verified.find(token);
    if (it != state.verified.end()) {
      if (now <= it->second.expiry + options_.jwt.clock_skew) {
        return it->second;
      }
      state.verified.erase(it);
    }
  }
  absl::StatusOr<JwtClaims> claims = state.verifier->Verify(token, now);
  if (claims.ok()) {
    absl::MutexLock lock(&state.cache_mu);
    if (state.verified.size() >= kMaxCachedTokens) state.verified.clear();
    state.verified.emplace(token, *claims);
  }
  return claims;
}

absl::StatusOr<std::string> Authorizer::Authenticate(
    const grpc::ServerContextBase& context, const State& state) {
  const auto& metadata = context.client_metadata();
  auto auth = metadata.find("authorization");
  std::string authorization;
  if (auth != metadata.end()) {
    authorization.assign(auth->second.data(), auth->second.size());
  }
  std::shared_ptr<const grpc::AuthContext> auth_context =
      context.auth_context();
  return Authenticate(auth != metadata.end() ? &authorization : nullptr,
                      auth_context.get(), state);
}

absl::StatusOr<std::string> Authorizer::Authenticate(
    const std::string* authorization, const grpc::AuthContext* auth_context,
    const State& state) {
  if (authorization != nullptr) {
    const std::string& value = *authorization;
    if (value.size() < 7 ||
        !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
      return absl::UnauthenticatedError(
          "the authorization header is not a bearer token");
    }
    if (state.verifier == nullptr) {
      return absl::UnauthenticatedError(
          "a bearer token was sent, but no JWKS is configured (--jwks)");
    }
    ASSIGN_OR_RETURN(
        JwtClaims claims,
        VerifyCached(std::string(absl::StripAsciiWhitespace(value.substr(7))),
                     state));
    return absl::StrCat("jwt:", claims.subject);
  }
  // A client certificate that the TLS handshake verified against the client
  // CA. Its identity is its subject alternative names (or else its common
  // name); the first that the policy binds is the caller's.
  if (auth_context != nullptr && auth_context->IsPeerAuthenticated()) {
    std::string first;
    for (const grpc::string_ref& name : auth_context->GetPeerIdentity()) {
      const std::string identity =
          absl::StrCat("cert:", std::string(name.data(), name.size()));
      if (state.policy.count(identity) > 0) return identity;
      if (first.empty()) first = identity;
    }
    if (!first.empty()) return first;
  }
  return absl::UnauthenticatedError(
      "no bearer token and no verified client certificate");
}

absl::Status Authorizer::Unauthenticated(std::string_view method,
                                         const absl::Status& why) {
  const uint64_t count = ++unauthenticated_;
  Log(LogLevel::kWarning, "call_unauthenticated",
      {{"method", std::string(method)},
       {"reason", std::string(why.message())},
       {"unauthenticated_total", count}});
  return absl::UnauthenticatedError("valid credentials are required");
}

absl::Status Authorizer::AuthenticateOnArrival(
    const std::string* authorization, const grpc::AuthContext* auth_context) {
  if (!enabled()) return absl::OkStatus();
  const std::shared_ptr<const State> current = state();
  absl::StatusOr<std::string> who =
      Authenticate(authorization, auth_context, *current);
  if (!who.ok()) return Unauthenticated("(on arrival)", who.status());
  return absl::OkStatus();
}

absl::StatusOr<Principal> Authorizer::AuthorizePerson(
    const std::string& authorization, std::vector<Role> any_of,
    std::string_view method) {
  Principal person;
  if (!enabled()) {
    person.roles = ~0u;
    return person;
  }
  const std::shared_ptr<const State> current = state();
  // Only a bearer token: the web listener has no client certificates.
  absl::StatusOr<std::string> who =
      authorization.empty()
          ? absl::UnauthenticatedError("no Authorization header")
          : Authenticate(&authorization, nullptr, *current);
  if (!who.ok()) return Unauthenticated(method, who.status());
  auto bound = current->policy.find(*who);
  if (bound == current->policy.end()) {
    return Denied(method, *who, any_of.front(),
                  "the policy binds no role to this caller");
  }
  person.identity = *std::move(who);
  person.roles = bound->second;
  for (Role role : any_of) {
    if (person.Has(role)) return person;
  }
  return Denied(method, person.identity, any_of.front(),
                "the caller's roles include none that may use this page");
}

absl::Status Authorizer::AuthorizeIdentity(
    const std::vector<std::string>& identities, Role role,
    std::string_view method, std::string* identity) {
  if (identities.empty()) {
    return Unauthenticated(method, absl::UnauthenticatedError("no identity"));
  }
  if (!enabled()) {
    *identity = identities.front();
    return absl::OkStatus();
  }
  const std::shared_ptr<const State> current = state();
  for (const std::string& who : identities) {
    auto bound = current->policy.find(who);
    if (bound == current->policy.end()) continue;
    if ((bound->second & Bit(role)) == 0) {
      return Denied(method, who, role, "the caller's roles do not include it");
    }
    *identity = who;
    return absl::OkStatus();
  }
  return Denied(method, identities.front(), role,
                "the policy binds no role to this caller");
}

absl::Status Authorizer::Denied(std::string_view method,
                                const std::string& caller, Role role,
                                std::string_view reason) {
  const uint64_t count = ++denied_;
  Log(LogLevel::kWarning, "call_denied",
      {{"method", std::string(method)},
       {"caller", caller},
       {"role_needed", std::string(RoleName(role))},
       {"reason", std::string(reason)},
       {"permission_denied_total", count}});
  return absl::PermissionDeniedError(
      "the caller's role does not allow this method");
}

absl::Status Authorizer::Authorize(const grpc::ServerContextBase& context,
                                   Role role, std::string_view method,
                                   std::string* identity) {
  if (!enabled()) {
    identity->clear();
    return absl::OkStatus();
  }
  const std::shared_ptr<const State> current = state();
  absl::StatusOr<std::string> who = Authenticate(context, *current);
  if (!who.ok()) return Unauthenticated(method, who.status());
  auto bound = current->policy.find(*who);
  if (bound == current->policy.end() || (bound->second & Bit(role)) == 0) {
    return Denied(method, *who, role,
                  bound == current->policy.end()
                      ? "the policy binds no role to this caller"
                      : "the caller's roles do not include it");
  }
  *identity = *std::move(who);
  return absl::OkStatus();
}

}  // namespace reconnect::service
