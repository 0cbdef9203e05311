#ifndef RECONNECT_SERVICE_SECURITY_AUTH_H_
#define RECONNECT_SERVICE_SECURITY_AUTH_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "service/security/jwt.h"

namespace reconnect::service {

// What a caller may do. Roles are independent: a binding lists every role
// its identity holds.
enum class Role {
  kEvaluator,  // DecisionSupport
  kAuditor,    // the Governance read methods
  kAdmin,      // Governance.ReloadRuleSets and ActivateRuleSet
  // The web pages' people: they read care plans and record the team's
  // decisions on them (an auditor reads them only).
  kClinician,
  kMdt,
};
std::string_view RoleName(Role role);

// A person using the web pages, as the policy knows them.
struct Principal {
  std::string identity;  // "jwt:SUBJECT"; empty when authorization is off
  unsigned roles = 0;    // a bit per Role
  bool Has(Role role) const {
    return (roles & (1u << static_cast<unsigned>(role))) != 0;
  }
};

struct AuthOptions {
  // The policy file: which identities hold which roles. Empty: authorization
  // is off and every caller holds every role (loopback or --insecure only).
  std::string policy_file;
  // The JWKS file whose keys sign bearer tokens; empty: bearer tokens are
  // not accepted, only client certificates.
  std::string jwks_file;
  JwtPolicy jwt;
};

// Authenticates callers (a bearer JWT, or else a verified client
// certificate) and checks their role against the policy. The policy and the
// JWKS are re-read when their files change (keys rotate without a restart);
// a file that fails to load is refused and the previous one stays.
// Thread-safe.
class Authorizer {
 public:
  // Every caller holds every role; the caller identity is empty.
  static std::unique_ptr<Authorizer> Off();
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(
      AuthOptions options);

  bool enabled() const { return !options_.policy_file.empty(); }

  // OK, with the caller's identity ("jwt:SUBJECT" or "cert:NAME") in
  // `identity`; or UNAUTHENTICATED (no usable credentials) or
  // PERMISSION_DENIED (the identity lacks `role`). The status message is
  // deliberately generic; the detailed reason goes to the log with `method`
  // and the running count of refusals of its kind.
  absl::Status Authorize(const grpc::ServerContextBase& context, Role role,
                         std::string_view method, std::string* identity);

  // Checks `role` for a caller authenticated elsewhere (a CDS Hooks client),
  // under the first of `identities` (most specific first) that the policy
  // binds: OK with it in `identity`, or PERMISSION_DENIED (generic message;
  // the reason is logged with `method`). OK with the first identity when
  // authorization is off.
  absl::Status AuthorizeIdentity(const std::vector<std::string>& identities,
                                 Role role, std::string_view method,
                                 std::string* identity);

  // Authenticates a person reaching the web pages by the bearer JWT in
  // `authorization` (the Authorization header's value, as the sign-in proxy
  // in front of the pages sets it): OK with their identity and roles when
  // they hold at least one of `any_of`; UNAUTHENTICATED or PERMISSION_DENIED
  // otherwise (generic messages; the reason is logged with `method`). Every
  // role, and no identity, when authorization is off.
  absl::StatusOr<Principal> AuthorizePerson(const std::string& authorization,
                                            std::vector<Role> any_of,
                                            std::string_view method);

  // Authenticates a call as its headers arrive, before its message: OK when
  // `authorization` (the header's value; null when absent) or the verified
  // client certificate in `auth_context` (may be null) names a caller, or
  // UNAUTHENTICATED (generic message; the reason is logged with the running
  // count). Roles are checked later, by Authorize. OK when authorization is
  // off.
  absl::Status AuthenticateOnArrival(const std::string* authorization,
                                     const grpc::AuthContext* auth_context);

  // Re-reads the policy and the JWKS if their files changed since they were
  // last read. On failure the previous ones stay and the error says why.
  absl::Status ReloadIfChanged();

  // Parsed policy: identity ("jwt:SUB", "cert:NAME", "cds:ISSUER" or
  // "cds:ISSUER (tenant T)") -> role bits.
  using Policy = std::map<std::string, unsigned>;
  // Parses a policy document; errors name the binding and the field.
  static absl::StatusOr<Policy> ParsePolicy(std::string_view json);

 private:
  struct State {
    Policy policy;
    std::unique_ptr<JwtVerifier> verifier;  // null without a JWKS
    // Tokens this verifier accepted already, so that a caller reusing its
    // access token (as EHRs do for its lifetime) costs one signature check,
    // not one per call. Bounded (cleared when full); a reload starts a new
    // state, and so a new cache: rotated-out keys are never trusted again.
    mutable absl::Mutex cache_mu;
    mutable absl::flat_hash_map<std::string, JwtClaims> verified
        ABSL_GUARDED_BY(cache_mu);
  };
  explicit Authorizer(AuthOptions options) : options_(std::move(options)) {}
  absl::StatusOr<std::shared_ptr<const State>> Load() const;
  std::string Fingerprint() const;
  std::shared_ptr<const State> state() const;
  // The identity of the caller, or UNAUTHENTICATED with the reason.
  absl::StatusOr<std::string> Authenticate(
      const grpc::ServerContextBase& context, const State& state);
  absl::StatusOr<std::string> Authenticate(
      const std::string* authorization, const grpc::AuthContext* auth_context,
      const State& state);
  // Logs a refusal for want of credentials and counts it.
  absl::Status Unauthenticated(std::string_view method,
                               const absl::Status& why);
  // Logs a refusal for want of a role and counts it.
  absl::Status Denied(std::string_view method, const std::string& caller,
                      Role role, std::string_view reason);
  absl::StatusOr<JwtClaims> VerifyCached(const std::string& token,
                                         const State& state) const;

  const AuthOptions options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const State> state_ ABSL_GUARDED_BY(mu_);
  // The files' fingerprint at the last load attempt.
  std::string seen_fingerprint_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> unauthenticated_{0};
  std::atomic<uint64_t> denied_{0};
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_AUTH_H_
