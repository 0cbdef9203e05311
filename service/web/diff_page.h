#ifndef RECONNECT_SERVICE_WEB_DIFF_PAGE_H_
#define RECONNECT_SERVICE_WEB_DIFF_PAGE_H_

// Governance: any two rule-set versions side by side, as `reconnect diff`
// reports them: rules added, removed and changed (field by field), then
// the metadata, params, defs and catalog texts that changed.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/ruleset/diff.h"
#include "service/web/html.h"

namespace reconnect::service::web {

struct DiffView {
  // Every version to choose from: (digest, "id version"), newest first.
  std::vector<std::pair<std::string, std::string>> versions;
  std::string from, to;                      // digests; empty: not chosen
  std::optional<ruleset::RuleSetDiff> diff;  // when both are chosen
  bool interactive = true;                   // the form choosing them
};

// The name of `digest` in `view.versions` (its first 12 hex digits when
// it is not there).
std::string VersionName(const DiffView& view, const std::string& digest);

// The page, and its parts (for the static report).
PageParts DiffParts(const DiffView& view);
std::string DiffPage(const DiffView& view);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_DIFF_PAGE_H_
