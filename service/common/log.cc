#include "service/common/log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/support/log.h"

namespace reconnect::service {

void Log(LogLevel level, std::string_view event, nlohmann::json fields) {
  static absl::Mutex mu(absl::kConstInit);
  nlohmann::json line = nlohmann::json::object();
  line["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                  absl::UTCTimeZone());
  line["level"] = level == LogLevel::kInfo      ? "info"
                  : level == LogLevel::kWarning ? "warning"
                                                : "error";
  line["event"] = std::string(event);
  if (fields.is_object()) {
    for (auto& [k, v] : fields.items()) line[k] = v;
  }
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
      "\n";
  absl::MutexLock lock(&mu);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void RouteGrpcLogsToJson() {
  gpr_set_log_function([](gpr_log_func_args* args) {
    Log(args->severity == GPR_LOG_SEVERITY_ERROR   ? LogLevel::kError
        : args->severity == GPR_LOG_SEVERITY_INFO  ? LogLevel::kInfo
        : args->severity == GPR_LOG_SEVERITY_DEBUG ? LogLevel::kInfo
                                                   : LogLevel::kWarning,
        "grpc",
        {{"message", args->message != nullptr ? args->message : ""},
         {"source", absl::StrCat(args->file != nullptr ? args->file : "", ":",
                                 args->line)}});
  });
}

}  // namespace reconnect::service
