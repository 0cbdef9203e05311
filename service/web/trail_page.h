#ifndef RECONNECT_SERVICE_WEB_TRAIL_PAGE_H_
#define RECONNECT_SERVICE_WEB_TRAIL_PAGE_H_

// Governance: the audit trail checked on demand, as `reconnect audit verify`
// checks it, with its progress while it runs; then intact or not, the
// records, the head hash to copy and keep elsewhere, and the first broken
// record.

#include <string>

#include "nlohmann/json.hpp"
#include "service/web/internal/background_job.h"

namespace reconnect::service::web {

std::string TrailPage(const TrailCheck::State& state);

// The last check's result alone (for the static report).
std::string TrailResult(const TrailCheck::State& state);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_TRAIL_PAGE_H_
