#ifndef RECONNECT_SERVICE_WEB_INTERNAL_MDT_PAGES_H_
#define RECONNECT_SERVICE_WEB_INTERNAL_MDT_PAGES_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "service/audit/replay.h"
#include "service/common/executor.h"
#include "service/decision/rule_set_registry.h"
#include "service/http/http_server.h"
#include "service/security/auth.h"
#include "service/web/decision_list_page.h"
#include "service/web/mdt_feedback.h"

namespace reconnect::service::web {

// Pages waiting for the worker; more are refused with 503.
inline constexpr int kMaxQueuedPages = 32;

// What the MDT pages read from the audit store, made on one thread of its
// own so that no HTTP thread waits on the disk.
class MdtPages {
 public:
  MdtPages(const RuleSetRegistry& registry, AuditStore* audit, std::string path)
      : registry_(registry), audit_(audit), path_(std::move(path)) {}

  bool enabled() const { return audit_ != nullptr && !path_.empty(); }

  // Runs `work` on the worker; false (not queued) when too much waits.
  bool Post(std::function<void()> work) {
    if (queued_.fetch_add(1) >= kMaxQueuedPages) {
      --queued_;
      return false;
    }
    executor_.Post([this, work = std::move(work)] {
      --queued_;
      work();
    });
    return true;
  }

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
  absl::StatusOr<AuditReader*> Reader() {
    if (!reader_) {
      auto opened = AuditReader::Open(path_);
      if (!opened.ok()) return opened.status();
      reader_ = *std::move(opened);
      replayer_ = std::make_unique<Replayer>(*reader_);
    }
    return reader_.get();
  }

  // The rule set with `digest`: a loaded one, else rebuilt from the store.
  absl::StatusOr<std::shared_ptr<const ruleset::CompiledRuleSet>> RuleSet(
      const std::string& digest) {
    for (auto& rs : registry_.All()) {
      if (rs->digest() == digest) return rs;
    }
    if (absl::Status s = Reader().status(); !s.ok()) return s;
    return replayer_->RuleSet(digest);
  }

  static nlohmann::json OverrideReasons(const ruleset::CompiledRuleSet& rs) {
    const nlohmann::json& hooks = rs.cds_hooks();
    if (!hooks.is_object() || !hooks.contains("cards")) {
      return nlohmann::json::array();
    }
    return hooks["cards"].value("override_reasons", nlohmann::json::array());
  }

  const RuleSetRegistry& registry_;
  AuditStore* const audit_;
  const std::string path_;
  std::atomic<int> queued_{0};
  // Worker thread only.
  std::unique_ptr<AuditReader> reader_;
  std::unique_ptr<Replayer> replayer_;
  // Last: its thread stops before what it uses goes.
  Executor executor_{"mdt", 1};
};

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_INTERNAL_MDT_PAGES_H_
