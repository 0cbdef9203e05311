#include "service/common/today.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace reconnect::service {

absl::StatusOr<std::string> Today(absl::Time now) {
  if (const char* fixed = std::getenv("RECONNECT_TODAY"); fixed != nullptr) {
    absl::Time parsed;
    std::string error;
    if (!absl::ParseTime("%Y-%m-%d", fixed, absl::UTCTimeZone(), &parsed,
                         &error) ||
        absl::FormatTime("%Y-%m-%d", parsed, absl::UTCTimeZone()) != fixed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "RECONNECT_TODAY='", fixed, "' is not a date such as 2027-12-01"));
    }
    return std::string(fixed);
  }
  return absl::FormatTime("%Y-%m-%d", now, absl::UTCTimeZone());
}

std::string TodayOrUtc(absl::Time now) {
  absl::StatusOr<std::string> today = Today(now);
  return today.ok() ? *today
                    : absl::FormatTime("%Y-%m-%d", now, absl::UTCTimeZone());
}

}  // namespace reconnect::service
