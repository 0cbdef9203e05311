#include "service/log.h"

#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

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

}  // namespace reconnect::service
