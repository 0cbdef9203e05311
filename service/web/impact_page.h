#ifndef RECONNECT_SERVICE_WEB_IMPACT_PAGE_H_
#define RECONNECT_SERVICE_WEB_IMPACT_PAGE_H_

// Governance: what a candidate rule-set version would change. Pick a loaded
// version and a period; the recorded decisions of the period are evaluated
// again with it, on a thread of its own, with a progress bar; then what
// would be gained and lost per technique, prompt and alert, as a chart and
// a table, with example decisions linked to their MDT pages.

#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "service/web/internal/background_job.h"

namespace reconnect::service::web {

struct ImpactView {
  // The loaded versions to choose from: (digest, "id version").
  std::vector<std::pair<std::string, std::string>> candidates;
  std::string candidate;  // the digest chosen by default
  std::string from, to;   // the period chosen by default (YYYY-MM-DD)
  ImpactRun::State state;
};

std::string ImpactPage(const ImpactView& view);

// The last analysis's result alone (for the static report).
std::string ImpactResult(const ImpactRun::State& state);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_IMPACT_PAGE_H_
