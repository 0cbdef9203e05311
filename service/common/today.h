#ifndef RECONNECT_SERVICE_COMMON_TODAY_H_
#define RECONNECT_SERVICE_COMMON_TODAY_H_

// Today's date (UTC, YYYY-MM-DD), for review dates. The environment
// variable RECONNECT_TODAY fixes it, so that tests (and a safety officer
// asking "what will be overdue on ...?") get the same answer every day.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reconnect::service {

// RECONNECT_TODAY when set (INVALID_ARGUMENT, naming it, when it is not a
// YYYY-MM-DD date), else the UTC date of `now`.
absl::StatusOr<std::string> Today(absl::Time now);

// Today() when RECONNECT_TODAY is unset or valid, else the UTC date of
// `now`: for logs, metrics and answers, where a bad variable (refused by
// the commands that read it first) must not stop the service.
std::string TodayOrUtc(absl::Time now);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_COMMON_TODAY_H_
