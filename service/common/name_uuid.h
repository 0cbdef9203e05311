#ifndef RECONNECT_SERVICE_COMMON_NAME_UUID_H_
#define RECONNECT_SERVICE_COMMON_NAME_UUID_H_

#include <array>
#include <cstdint>
#include <string>

namespace reconnect::service {

using UuidNamespace = std::array<uint8_t, 16>;

// A name-based UUID (version 5, RFC 9562: SHA-1 of the namespace and the
// name), lower-case 8-4-4-4-12: the same name always gives the same uuid,
// on every replica and in every release.
std::string NameUuid(const UuidNamespace& ns, const std::string& name);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_COMMON_NAME_UUID_H_
