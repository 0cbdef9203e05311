#ifndef RECONNECT_SERVICE_COMMON_LOG_H_
#define RECONNECT_SERVICE_COMMON_LOG_H_

#include <string_view>

#include "nlohmann/json.hpp"

namespace reconnect::service {

enum class LogLevel { kInfo, kWarning, kError };

// Writes one structured JSON line to stderr: time, level, event and fields.
// Callers pass identifiers and counts only, never assessment content.
// Thread-safe.
void Log(LogLevel level, std::string_view event,
         nlohmann::json fields = nlohmann::json::object());

// Routes gRPC's own log messages (handshake failures, transport errors)
// through Log as "grpc" events, so that every line on stderr is JSON.
void RouteGrpcLogsToJson();

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_COMMON_LOG_H_
