#ifndef RECONNECT_SERVICE_WEB_REPORT_H_
#define RECONNECT_SERVICE_WEB_REPORT_H_

// `reconnect report`: the governance console's content for a period as one
// self-contained HTML file (stylesheet and SVG charts inline, no script)
// for a governance meeting's papers, read from an audit store file with no
// server running.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/ruleset/rule_set.h"

namespace reconnect::service::web {

struct ReportOptions {
  std::string store_path;
  int64_t first_day = 0, last_day = 0;  // the period, inclusive
  // Include the comments sent with feedback (they may hold patient words).
  bool comments = false;
  // A candidate version whose impact over the period to include; null:
  // none.
  std::shared_ptr<const ruleset::CompiledRuleSet> candidate;
};

// The versions and their use, what changed between the two newest, the
// trail checked now, rules in practice over the period, and the impact of
// the candidate over it, when one is given.
absl::StatusOr<std::string> GovernanceReport(const ReportOptions& options);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_REPORT_H_
