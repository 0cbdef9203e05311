// Writes a throw-away CA, a server certificate for localhost, a JWKS, a
// bearer token, a CDS Hooks client's signing key and client list, and a
// policy into DIR, for benchmarking the service with
// TLS and bearer tokens on (bench/service_bench.sh). Not for deployment.
//
//   reconnect_make_test_pki DIR

#include <iostream>
#include <string>

#include "absl/time/clock.h"
#include "tests/testing/pki.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: reconnect_make_test_pki DIR\n";
    return 2;
  }
  using namespace reconnect::testing_util;
  const std::string dir = argv[1];
  Key ca_key = Key::EcP256();
  Certificate ca =
      MakeCertificate({"benchmark CA", {}, true}, ca_key, nullptr, ca_key);
  Key server_key = Key::EcP256();
  WriteFile(dir + "/ca.pem", ca.pem);
  WriteFile(dir + "/server.pem",
            MakeCertificate({"reconnect", {"DNS:localhost", "IP:127.0.0.1"}},
                            server_key, &ca, ca_key)
                .pem);
  WriteFile(dir + "/server.key", server_key.PrivatePem());
  // RS256, as most EHR authorisation servers sign.
  Key token_key = Key::Rsa();
  WriteFile(dir + "/jwks.json",
            nlohmann::json({{"keys", {token_key.Jwk("bench")}}}).dump());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  WriteFile(dir + "/token.jwt",
            SignJwt({{"alg", "RS256"}, {"kid", "bench"}},
                    {{"iss", "https://ehr.example/auth"},
                     {"sub", "load-generator"},
                     {"aud", "https://cds.example/reconnect"},
                     {"exp", now + 3600}},
                    token_key));
  // A CDS Hooks client (an EHR) signing ES384, as CDS Hooks requires.
  Key cds_key = Key::EcP384();
  WriteFile(dir + "/cds-key.pem", cds_key.PrivatePem());
  WriteFile(dir + "/cds-jwks.json",
            nlohmann::json({{"keys", {cds_key.Jwk("bench-cds")}}}).dump());
  WriteFile(dir + "/cds-clients.json",
            R"({"clients": [{"issuer": "https://ehr.example.org",)"
            R"( "jwks_file": "cds-jwks.json"}]})");
  WriteFile(
      dir + "/policy.json",
      R"({"bindings": [)"
      R"({"jwt_subject": "load-generator", "roles": ["evaluator"]},)"
      R"({"cds_client": "https://ehr.example.org", "roles": ["evaluator"]}]})");
  return 0;
}
