#ifndef RECONNECT_SERVICE_SECURITY_CDS_CLIENTS_H_
#define RECONNECT_SERVICE_SECURITY_CDS_CLIENTS_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/security/jwt.h"
#include "service/security/replay_cache.h"

namespace reconnect::service {

// A CDS client (an EHR) as its verified bearer token names it. CDS Hooks
// identifies the client by the token's issuer, and a multi-tenant EHR by
// the tenant it sends as well.
struct CdsCaller {
  std::string issuer;
  std::string tenant;   // empty when the token names none
  std::string subject;  // the EHR's client id; optional in CDS Hooks
  // The identities a policy may bind, most specific first:
  // "cds:ISSUER (tenant T)" when a tenant was sent, then "cds:ISSUER".
  std::vector<std::string> Identities() const;
};

struct CdsClientOptions {
  // The file listing the trusted clients (--cds_clients):
  //   {"clients": [{"issuer": "https://ehr.example.org",
  //                 "jwks_file": "ehr-jwks.json"}],   // or "jwks": {...}
  //                                   // or "jwks_url": "https://..."
  //    "max_token_lifetime_seconds": 300,
  //    "ca_file": "ehr-ca.pem"}   // to trust jwks_url servers; optional
  // A relative jwks_file or ca_file is read from the list's directory.
  std::string file;
  // Keys published at a jwks_url are fetched when the list is read, again
  // this often, and sooner (but at most once per `jwks_retry`) when a token
  // names a key id they lack or a fetch failed.
  absl::Duration jwks_refresh = absl::Minutes(10);
  absl::Duration jwks_retry = absl::Seconds(30);
  absl::Duration jwks_timeout = absl::Seconds(5);
  absl::Duration clock_skew = absl::Seconds(60);
  // The token ids remembered against replay (each until its token
  // expires); beyond them, tokens are refused.
  size_t replay_capacity = 1'000'000;
};

// Verifies the bearer JWTs that CDS Hooks 2.0 clients send with every call
// (cds-hooks.hl7.org/2.0/#trusting-cds-clients): signed RS256, RS384,
// ES256 or ES384 by a key of the JWKS configured for its issuer, inline, in
// a file or at the issuer's allowlisted URL (a token's `jku` is never
// followed; with a jwks_url, a `jku` naming any other URL is refused);
// `aud` exactly the URL called; `exp`, `iat` and `jti` required; each `jti`
// accepted once per issuer until its token expires. The client list and its
// key files are re-read when they change, and published keys re-fetched,
// so an EHR's keys rotate without a restart. Thread-safe; only
// ReloadIfChanged fetches, so a call never waits on another server.
class CdsClientVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<CdsClientVerifier>> Create(
      CdsClientOptions options);

  // The caller of a request whose Authorization header is `authorization`
  // (empty when absent) to the exact URL `audience`, or UNAUTHENTICATED
  // saying why: for the log only, never for the caller, and never holding
  // the token.
  absl::StatusOr<CdsCaller> Verify(std::string_view authorization,
                                   std::string_view audience, absl::Time now);

  // Re-reads the client list and its key files if any changed since they
  // were last read; on failure the previous ones stay and the error says
  // why. Then fetches the published keys that are due (a failed fetch is
  // logged, and the keys fetched before stay).
  absl::Status ReloadIfChanged();

  size_t client_count() const;

 private:
  struct Client {
    std::string jwks_file;  // empty when the keys are inline or published
    std::string jwks_url;   // empty when the keys are inline or in a file
    // Null while published keys have never been fetched.
    std::shared_ptr<const JwkSet> keys;
    absl::Time fetched_at = absl::InfinitePast();
  };
  struct Clients {
    std::map<std::string, Client> by_issuer;
    absl::Duration max_lifetime;
    std::string ca_file;  // empty: the system's trusted CAs
  };
  // Published keys' fetches, by issuer.
  struct Fetching {
    absl::Time attempted_at = absl::InfinitePast();
    bool wanted = false;  // a token named a key id they lack
  };
  explicit CdsClientVerifier(CdsClientOptions options)
      : options_(std::move(options)), replay_(options_.replay_capacity) {}
  // Reads the list; published keys are those of `previous` where the URL
  // is the same, else fetched now.
  absl::StatusOr<std::shared_ptr<const Clients>> Load(
      const Clients* previous) const;
  // `issuer`'s keys from `url`, parsed, or why not.
  absl::StatusOr<std::shared_ptr<const JwkSet>> Fetch(
      const std::string& issuer, const std::string& url,
      const std::string& ca_file) const;
  absl::Status ReloadList();
  void RefreshPublishedKeys(absl::Time now);
  void WantKeys(const std::string& issuer);
  std::string Fingerprint(const Clients* clients) const;
  std::shared_ptr<const Clients> clients() const;

  const CdsClientOptions options_;
  ReplayCache replay_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Clients> clients_ ABSL_GUARDED_BY(mu_);
  std::string seen_fingerprint_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Fetching> fetching_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_CDS_CLIENTS_H_
