#ifndef RECONNECT_SERVICE_SECURITY_HTTPS_GET_H_
#define RECONNECT_SERVICE_SECURITY_HTTPS_GET_H_

// A small HTTPS client for what the service fetches itself: a CDS
// client's published JSON Web Key Set. TLS 1.2 or later, the server's
// certificate verified against the trusted CAs and the URL's host, a
// deadline on the whole fetch and a bound on what is read.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reconnect::service {

struct HttpsGetOptions {
  // A PEM bundle of the CAs to trust; empty: the system's trusted CAs.
  std::string ca_file;
  // For the whole fetch: resolving, connecting, the handshake and the read.
  absl::Duration timeout = absl::Seconds(5);
  // The largest body accepted.
  size_t max_bytes = 1 << 20;
};

// OK when `url` is an https URL with a host (and, if given, a port of
// 1-65535); otherwise INVALID_ARGUMENT saying what is wrong.
absl::Status CheckHttpsUrl(std::string_view url);

// The body of a 200 answer to GET `url`; otherwise UNAVAILABLE naming the
// URL and why (unreachable, an untrusted certificate, another status, too
// large, too slow). Blocks the calling thread for at most the timeout.
absl::StatusOr<std::string> HttpsGet(const std::string& url,
                                     const HttpsGetOptions& options);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_HTTPS_GET_H_
