#ifndef RECONNECT_SERVICE_COMMON_FILES_H_
#define RECONNECT_SERVICE_COMMON_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace reconnect::service {

// The whole content of the file at `path`, or INVALID_ARGUMENT naming it as
// `what` (a flag, say: "--tls_key 'x.pem' cannot be read").
absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          const std::string& what);

// A string that changes when the file at `path` is replaced or written (its
// path, size and modification time); "" for an empty path.
std::string FileFingerprint(const std::string& path);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_COMMON_FILES_H_
