#ifndef RECONNECT_SERVICE_SECURITY_TLS_H_
#define RECONNECT_SERVICE_SECURITY_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace reconnect::service {

// How the service's listener is secured.
struct TlsOptions {
  // PEM files: the server's certificate chain and private key. Both or
  // neither; neither means plaintext.
  std::string cert_file;
  std::string key_file;
  // PEM bundle of the CAs that sign client certificates (mutual TLS).
  std::string client_ca_file;
  // With a client CA: "require" (the handshake fails without a client
  // certificate the CA signed) or "optional" (a certificate, when sent,
  // must verify; callers without one authenticate by bearer token).
  std::string client_cert_mode = "require";
  // How often the files are re-read: certificates rotate without a restart.
  int refresh_seconds = 60;
};

// Checks the files now (each must parse, and the key must match the
// certificate), so that a bad file is refused at start-up with its name
// rather than failing every handshake later, and returns credentials that
// watch the files. Plaintext when no certificate is configured.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options);

// Whether `options` configures TLS at all.
inline bool TlsConfigured(const TlsOptions& options) {
  return !options.cert_file.empty() || !options.key_file.empty();
}

// Client side, for `--server` commands and tests: TLS when `ca_file` (the
// CA that signed the server) is set, with a client certificate when
// `cert_file` and `key_file` are; plaintext otherwise.
struct ClientTlsOptions {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientTlsOptions& options);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_TLS_H_
