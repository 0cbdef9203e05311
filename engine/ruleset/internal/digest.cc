#include "engine/ruleset/internal/digest.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"

namespace reconnect::ruleset::ruleset_internal {

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace reconnect::ruleset::ruleset_internal
