#ifndef RECONNECT_SERVICE_WEB_CONSOLE_DATA_H_
#define RECONNECT_SERVICE_WEB_CONSOLE_DATA_H_

// What the governance console's pages show, read from the audit store (and
// the loaded versions) on a StoreWorker's thread: for the pages, and for
// `reconnect report`, which reads a store file with no server.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "service/decision/rule_set_registry.h"
#include "service/web/diff_page.h"
#include "service/web/internal/store_worker.h"
#include "service/web/rules_in_practice_page.h"
#include "service/web/versions_page.h"

namespace reconnect::service::web {

// A date (YYYY-MM-DD) as a day number; false when it is not one.
bool ParseDay(const std::string& text, int64_t& day);

// Rules in practice over the period in `view` (its days set; comments read
// only when `view.comments_shown`). Worker thread only.
absl::StatusOr<PracticeView> ReadPractice(StoreWorker& store,
                                          PracticeView view);

// Every version loaded or recorded, with its use and the reloads and
// activations. Worker thread only.
absl::StatusOr<VersionsView> ReadVersions(StoreWorker& store,
                                          const RuleSetRegistry& registry,
                                          VersionsView view);

// Two versions compared: `from` and `to` are digests, or empty for the
// version before the active one and the active one (with none active: the
// two newest). NOT_FOUND naming the parameter for a digest not known.
// Worker thread only.
absl::StatusOr<DiffView> ReadDiff(StoreWorker& store,
                                  const RuleSetRegistry& registry,
                                  std::string from, std::string to);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_CONSOLE_DATA_H_
