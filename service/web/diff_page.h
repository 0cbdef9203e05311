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

namespace reconnect::service::web {

struct DiffView {
  // Every version to choose from: (digest, "id version"), newest first.
  std::vector<std::pair<std::string, std::string>> versions;
  std::string from, to;                      // digests; empty: not chosen
  std::optional<ruleset::RuleSetDiff> diff;  // when both are chosen
};

// The name of `digest` in `view.versions` (its first 12 hex digits when
// it is not there).
std::string VersionName(const DiffView& view, const std::string& digest);

std::string DiffPage(const DiffView& view);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_DIFF_PAGE_H_
