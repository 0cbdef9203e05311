#include "tests/testing/pki.h"

#include <fstream>
#include <stdexcept>

#include "absl/strings/escaping.h"
#include "openssl/bn.h"
#include "openssl/core_names.h"
#include "openssl/ecdsa.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/rsa.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace reconnect::testing_util {

namespace {

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed: ") + what);
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string Base64Url(const std::string& bytes) {
  std::string out;
  absl::WebSafeBase64Escape(bytes, &out);
  return out;
}

std::string BignumBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

Key Key::Rsa(int bits) {
  EVP_PKEY* pkey = EVP_RSA_gen(static_cast<unsigned>(bits));
  Check(pkey != nullptr, "RSA key generation");
  return Key(pkey);
}

Key Key::EcP256() {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  Check(pkey != nullptr, "EC key generation");
  return Key(pkey);
}

Key Key::EcP384() {
  EVP_PKEY* pkey = EVP_EC_gen("P-384");
  Check(pkey != nullptr, "EC key generation");
  return Key(pkey);
}

Key Key::FromPrivatePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  Check(pkey != nullptr, "private key PEM");
  return Key(pkey);
}

Key::Key(Key&& other) noexcept : pkey_(other.pkey_) { other.pkey_ = nullptr; }
Key& Key::operator=(Key&& other) noexcept {
  std::swap(pkey_, other.pkey_);
  return *this;
}
Key::~Key() { EVP_PKEY_free(pkey_); }

bool Key::is_rsa() const { return EVP_PKEY_is_a(pkey_, "RSA") == 1; }

std::string Key::PrivatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PrivateKey(bio, pkey_, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1,
        "private key PEM");
  return BioText(bio);
}

nlohmann::json Key::Jwk(const std::string& kid) const {
  nlohmann::json jwk = {{"kid", kid}, {"use", "sig"}};
  if (is_rsa()) {
    BIGNUM *n = nullptr, *e = nullptr;
    Check(EVP_PKEY_get_bn_param(pkey_, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
              EVP_PKEY_get_bn_param(pkey_, OSSL_PKEY_PARAM_RSA_E, &e) == 1,
          "RSA parameters");
    jwk["kty"] = "RSA";
    jwk["alg"] = "RS256";
    jwk["n"] = Base64Url(BignumBytes(n));
    jwk["e"] = Base64Url(BignumBytes(e));
    BN_free(n);
    BN_free(e);
  } else {
    unsigned char point[97];
    size_t len = 0;
    Check(EVP_PKEY_get_octet_string_param(pkey_, OSSL_PKEY_PARAM_PUB_KEY, point,
                                          sizeof(point), &len) == 1 &&
              (len == 65 || len == 97),
          "EC point");
    const size_t half = (len - 1) / 2;
    jwk["kty"] = "EC";
    jwk["alg"] = half == 32 ? "ES256" : "ES384";
    jwk["crv"] = half == 32 ? "P-256" : "P-384";
    jwk["x"] = Base64Url(std::string(reinterpret_cast<char*>(point) + 1, half));
    jwk["y"] =
        Base64Url(std::string(reinterpret_cast<char*>(point) + 1 + half, half));
  }
  return jwk;
}

Certificate MakeCertificate(const CertificateSpec& spec, const Key& key,
                            const Certificate* issuer, const Key& issuer_key) {
  static long serial = 1000;
  X509* cert = X509_new();
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before_seconds);
  X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after_seconds);
  X509_set_pubkey(cert, key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1,
      0);
  X509* issuer_cert = issuer != nullptr ? issuer->x509.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  AddExtension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  AddExtension(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (spec.is_ca) {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, issuer_cert, NID_key_usage,
                 "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert, issuer_cert, NID_key_usage,
                 "critical,digitalSignature,keyEncipherment");
    AddExtension(cert, issuer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  if (!spec.alt_names.empty()) {
    std::string names;
    for (const auto& n : spec.alt_names) {
      names += (names.empty() ? "" : ",") + n;
    }
    AddExtension(cert, issuer_cert, NID_subject_alt_name, names);
  }
  Check(X509_sign(cert, issuer_key.get(), EVP_sha256()) > 0, "X509_sign");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  return Certificate{BioText(bio), std::shared_ptr<X509>(cert, X509_free)};
}

std::string SignJwt(const nlohmann::json& header, const nlohmann::json& claims,
                    const Key& key) {
  const std::string input =
      Base64Url(header.dump()) + "." + Base64Url(claims.dump());
  const bool sha384 = header.contains("alg") && header["alg"].is_string() &&
                      header["alg"].get<std::string>().ends_with("384");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  Check(EVP_DigestSignInit(ctx, nullptr, sha384 ? EVP_sha384() : EVP_sha256(),
                           nullptr, key.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len,
                           reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1,
        "sign init");
  std::string sig(len, '\0');
  Check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1,
        "sign");
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (!key.is_rsa()) {
    // DER ECDSA to JOSE's r || s.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* ecdsa =
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    Check(ecdsa != nullptr, "ECDSA signature");
    const int half = EVP_PKEY_get_bits(key.get()) == 384 ? 48 : 32;
    std::string raw(2 * half, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa),
                 reinterpret_cast<unsigned char*>(raw.data()), half);
    BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa),
                 reinterpret_cast<unsigned char*>(raw.data()) + half, half);
    ECDSA_SIG_free(ecdsa);
    sig = raw;
  }
  return input + "." + Base64Url(sig);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace reconnect::testing_util
