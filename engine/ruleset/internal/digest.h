#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_DIGEST_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_DIGEST_H_

#include <string>
#include <string_view>

namespace reconnect::ruleset::ruleset_internal {

// Lower-case hex SHA-256 of `data`, computed with OpenSSL.
std::string Sha256Hex(std::string_view data);

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_INTERNAL_DIGEST_H_
