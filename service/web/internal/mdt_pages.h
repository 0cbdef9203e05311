#ifndef RECONNECT_SERVICE_WEB_INTERNAL_MDT_PAGES_H_
#define RECONNECT_SERVICE_WEB_INTERNAL_MDT_PAGES_H_

#include <functional>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "service/decision/rule_set_registry.h"
#include "service/http/http_server.h"
#include "service/security/auth.h"
#include "service/web/decision_list_page.h"
#include "service/web/internal/store_worker.h"
#include "service/web/mdt_feedback.h"

namespace reconnect::service::web {

// What the MDT pages read from the audit store, made on a thread of their
// own (StoreWorker).
class MdtPages {
 public:
  MdtPages(const RuleSetRegistry& registry, AuditStore* audit, std::string path)
      : audit_(audit), store_(registry, std::move(path), "mdt") {}

  bool enabled() const { return audit_ != nullptr && store_.enabled(); }

  // Runs `work` on the worker; false (not queued) when too much waits.
  bool Post(std::function<void()> work) { return store_.Post(std::move(work)); }

  // The care plan of decision `id`, as `person` may see it.
  http::HttpResponse DecisionPage(const std::string& id,
                                  const Principal& person);
  // The decisions `query` finds, in `view`; `more_url` ends in '?' or '&'
  // and leads to the next page with "before=SEQUENCE".
  http::HttpResponse ListPage(DecisionQuery query, DecisionListView view,
                              const std::string& more_url);
  // Stores `entry` on decision `id` by `person`, then answers `respond`.
  void Record(const std::string& id, const MdtEntry& entry,
              const Principal& person, std::shared_ptr<http::Respond> respond);

 private:
  absl::StatusOr<AuditReader*> Reader() { return store_.Reader(); }
  absl::StatusOr<std::shared_ptr<const ruleset::CompiledRuleSet>> RuleSet(
      const std::string& digest) {
    return store_.RuleSet(digest);
  }

  static nlohmann::json OverrideReasons(const ruleset::CompiledRuleSet& rs) {
    const nlohmann::json& hooks = rs.cds_hooks();
    if (!hooks.is_object() || !hooks.contains("cards")) {
      return nlohmann::json::array();
    }
    return hooks["cards"].value("override_reasons", nlohmann::json::array());
  }

  AuditStore* const audit_;
  // Last: its thread stops before what it uses goes.
  StoreWorker store_;
};

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_INTERNAL_MDT_PAGES_H_
