#ifndef RECONNECT_TESTS_TESTING_PKI_H_
#define RECONNECT_TESTS_TESTING_PKI_H_

#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace reconnect::testing_util {

// Test keys, certificates and tokens, made with OpenSSL by the tests
// themselves: nothing secret is committed.
class Key {
 public:
  static Key Rsa(int bits = 2048);
  static Key EcP256();
  static Key EcP384();
  // A private key from PEM (as PrivatePem writes it); aborts when it is not
  // one.
  static Key FromPrivatePem(const std::string& pem);
  Key(Key&&) noexcept;
  Key& operator=(Key&&) noexcept;
  ~Key();

  EVP_PKEY* get() const { return pkey_; }
  bool is_rsa() const;
  std::string PrivatePem() const;
  // The public key as a JWK (kty RSA or EC) with `kid`.
  nlohmann::json Jwk(const std::string& kid) const;

 private:
  explicit Key(EVP_PKEY* pkey) : pkey_(pkey) {}
  EVP_PKEY* pkey_ = nullptr;
};

struct Certificate {
  std::string pem;
  std::shared_ptr<X509> x509;
};

struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> alt_names;  // "DNS:x", "IP:127.0.0.1"
  bool is_ca = false;
  long not_before_seconds = -3600;  // relative to now
  long not_after_seconds = 86400;
};

// Signed by `issuer` with `issuer_key`; self-signed when `issuer` is null.
Certificate MakeCertificate(const CertificateSpec& spec, const Key& key,
                            const Certificate* issuer, const Key& issuer_key);

// A compact JWS signed with `key` by the algorithm `header` names (SHA-384
// for RS384 and ES384, else SHA-256); `header` names the algorithm, so a
// test can make a token whose header lies about it.
std::string SignJwt(const nlohmann::json& header, const nlohmann::json& claims,
                    const Key& key);

// Writes `text` to `path`.
void WriteFile(const std::string& path, const std::string& text);

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_PKI_H_
