#include "service/security/tls.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "service/common/files.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

std::unique_ptr<BIO, BioDeleter> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate in a PEM file; an error naming the file when there is
// none or one does not parse.
absl::StatusOr<std::vector<X509Ptr>> ReadCertificates(const std::string& path,
                                                      const std::string& what) {
  ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(path, what));
  auto bio = MemoryBio(pem);
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends at the end of the input (a "no start line" error) or at a
  // block that does not parse.
  const unsigned long error = ERR_peek_last_error();
  const bool clean_end = ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " '", path, "' holds no PEM certificate (BEGIN CERTIFICATE)"));
  }
  if (!clean_end) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "': certificate ", certs.size() + 1,
                     " does not parse"));
  }
  return certs;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options) {
  if (!TlsConfigured(options)) {
    if (!options.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--client_ca needs --tls_cert and --tls_key: mutual TLS is TLS");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key go together: give both or neither");
  }
  if (options.client_cert_mode != "require" &&
      options.client_cert_mode != "optional") {
    return absl::InvalidArgumentError(
        absl::StrCat("--client_cert must be 'require' or 'optional', not '",
                     options.client_cert_mode, "'"));
  }
  if (options.refresh_seconds < 1) {
    return absl::InvalidArgumentError(
        "--tls_refresh_seconds must be at least 1");
  }
  ASSIGN_OR_RETURN(auto chain,
                   ReadCertificates(options.cert_file, "--tls_cert"));
  ASSIGN_OR_RETURN(std::string key_pem,
                   ReadWholeFile(options.key_file, "--tls_key"));
  {
    auto bio = MemoryBio(key_pem);
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (key == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_key '", options.key_file,
                       "' holds no unencrypted PEM private key"));
    }
    if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_key '", options.key_file,
                       "' is not the key of the certificate in --tls_cert '",
                       options.cert_file, "'"));
    }
  }
  if (!options.client_ca_file.empty()) {
    RETURN_IF_ERROR(ReadCertificates(options.client_ca_file, "--client_ca"));
  }

  // The provider re-reads the files every refresh_seconds, so rotated
  // certificates take effect without a restart.
  auto provider =
      options.client_ca_file.empty()
          ? std::make_shared<
                grpc::experimental::FileWatcherCertificateProvider>(
                options.key_file, options.cert_file, options.refresh_seconds)
          : std::make_shared<
                grpc::experimental::FileWatcherCertificateProvider>(
                options.key_file, options.cert_file, options.client_ca_file,
                options.refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (options.client_ca_file.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(
        options.client_cert_mode == "require"
            ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
            : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientTlsOptions& options) {
  if (options.ca_file.empty()) {
    if (!options.cert_file.empty() || !options.key_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_cert and --tls_key (a client certificate) need --tls_ca, "
          "the CA that signed the server");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key go together: give both or neither");
  }
  grpc::SslCredentialsOptions ssl;
  ASSIGN_OR_RETURN(std::string ca, ReadWholeFile(options.ca_file, "--tls_ca"));
  ssl.pem_root_certs = std::move(ca);
  if (!options.cert_file.empty()) {
    ASSIGN_OR_RETURN(std::string cert,
                     ReadWholeFile(options.cert_file, "--tls_cert"));
    ASSIGN_OR_RETURN(std::string key,
                     ReadWholeFile(options.key_file, "--tls_key"));
    ssl.pem_cert_chain = std::move(cert);
    ssl.pem_private_key = std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace reconnect::service
