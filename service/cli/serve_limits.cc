// The checks `serve` makes of its limits before anything starts.

#include "absl/strings/match.h"
#include "service/cli/serve.h"

namespace reconnect::service {

bool IsLoopback(const std::string& address) {
  return absl::StartsWith(address, "127.") ||
         absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "[::1]:") ||
         absl::StartsWith(address, "ipv4:127.") ||
         absl::StartsWith(address, "ipv6:[::1]:");
}

std::string CheckServeLimits(const ServeOptions& o) {
  if (o.max_receive_bytes < 1024) return "--max_receive_bytes must be >= 1024";
  if (o.missing_data_budget < 0) return "--missing_data_budget must be >= 0";
  if (o.limits.max_concurrent_calls < 1) {
    return "--max_concurrent_calls must be >= 1";
  }
  if (o.limits.default_deadline <= absl::ZeroDuration()) {
    return "--default_deadline_ms must be > 0";
  }
  if (o.limits.max_deadline < o.limits.default_deadline) {
    return "--max_deadline_ms must be >= --default_deadline_ms";
  }
  if (o.keepalive_seconds < 1 || o.keepalive_timeout_seconds < 1 ||
      o.min_client_ping_interval_seconds < 1) {
    return "--keepalive_seconds, --keepalive_timeout_seconds and "
           "--min_client_ping_interval_seconds must be >= 1";
  }
  if (o.max_connection_age_seconds < 0) {
    return "--max_connection_age_seconds must be >= 0";
  }
  if (o.max_grpc_memory_mb < 16) return "--max_grpc_memory_mb must be >= 16";
  if (o.max_streams_per_connection < 1) {
    return "--max_streams_per_connection must be >= 1";
  }
  if (o.shutdown_grace_seconds < 0) {
    return "--shutdown_grace_seconds must be >= 0";
  }
  if (o.drain_delay_seconds < 0) return "--drain_delay_seconds must be >= 0";
  if (o.http.max_header_bytes < 1024) {
    return "--http_max_header_bytes must be >= 1024";
  }
  if (o.http.max_body_bytes < 1024)
    return "--http_max_body_bytes must be >= 1024";
  if (o.http.read_timeout <= absl::ZeroDuration() ||
      o.http.idle_timeout <= absl::ZeroDuration() ||
      o.http.request_deadline <= absl::ZeroDuration()) {
    return "--http_read_timeout_ms, --http_idle_timeout_seconds and "
           "--http_deadline_ms must be > 0";
  }
  if (o.http.max_connections < 1) return "--http_max_connections must be >= 1";
  if (o.reflection != "auto" && o.reflection != "on" && o.reflection != "off") {
    return "--reflection must be auto, on or off";
  }
  return "";
}

}  // namespace reconnect::service
