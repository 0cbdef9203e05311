#ifndef RECONNECT_SERVICE_WEB_REPORT_H_
#define RECONNECT_SERVICE_WEB_REPORT_H_

// `reconnect report`: the governance console's content for a period as one
// self-contained HTML file (stylesheet and SVG charts inline, no script)
// for a governance meeting's papers, read from an audit store file with no
// server running.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace reconnect::service::web {

struct ReportOptions {
  std::string store_path;
  int64_t first_day = 0, last_day = 0;  // the period, inclusive
  // Include the comments sent with feedback (they may hold patient words).
  bool comments = false;
};

// The versions and their use, what changed between the two newest, the
// trail checked now, and rules in practice over the period.
absl::StatusOr<std::string> GovernanceReport(const ReportOptions& options);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_REPORT_H_
