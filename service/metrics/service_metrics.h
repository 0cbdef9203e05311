#ifndef RECONNECT_SERVICE_METRICS_SERVICE_METRICS_H_
#define RECONNECT_SERVICE_METRICS_SERVICE_METRICS_H_

// The service's Prometheus metrics, as operators scrape them at /metrics.
//
// Labels are of low cardinality only: rule-set ids, versions, digests and
// rule ids, interfaces, status codes, CDS services, card kinds and outcomes.
// Never a patient, a caller or a decision id, and nothing of an assessment.
//
// Counted as things happen (on request and writer threads): evaluations,
// calls, rule fires and holds, cards, audit commits and feedback. Read from
// the service's parts at each scrape: calls in flight and shed, the audit
// queue and store health, reloads and the loaded versions, and the
// process's memory and CPU.

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "service/audit/audit_store.h"
#include "service/decision/decision_observer.h"
#include "service/decision/rule_set_registry.h"
#include "service/decision/rule_set_versions.h"
#include "service/metrics/atomic_histogram.h"
#include "service/security/call_limits.h"

namespace reconnect::service {

class ServiceMetrics final : public DecisionObserver {
 public:
  // The parts read at each scrape; any may be null (its metrics are then
  // left out). They must outlive every scrape.
  struct Sources {
    const CallLimits* limits = nullptr;
    const RuleSetRegistry* registry = nullptr;
    const RuleSetVersions* versions = nullptr;
    const AuditStore* audit = nullptr;
  };

  ServiceMetrics();
  ~ServiceMetrics() override;
  ServiceMetrics(const ServiceMetrics&) = delete;
  ServiceMetrics& operator=(const ServiceMetrics&) = delete;

  // Sets the parts read at each scrape. Call before serving.
  void Watch(Sources sources);

  // What a scrape collects: the counted metrics, and those read at scrape
  // time. For an exposer to register.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const;
  // Every metric, in Prometheus's text exposition format.
  std::string Scrape() const;

  // DecisionObserver.
  void Evaluated(const ruleset::CompiledRuleSet* rule_set,
                 absl::StatusCode code, const v1::Recommendation* plan,
                 absl::Duration took) override
      ABSL_LOCKS_EXCLUDED(by_digest_mu_);
  void CallEnded(std::string_view interface, std::string_view code,
                 absl::Duration took) override;
  void CardsIssued(const std::vector<IssuedCard>& cards) override;

  // One audit-store commit (AuditStore::Options::on_commit).
  void Committed(const CommitReport& report);

 private:
  class Collector;
  // One rule-set version's request-path series, made the first time it
  // decides; keyed by digest (two digests of one id and version, a version
  // edited in place, are summed when collected).
  struct RuleSetSeries {
    std::string id, version;
    std::array<AtomicCounter, 17> decisions{};  // by absl::StatusCode
    std::vector<std::string> rules;             // by rule index
    absl::flat_hash_map<std::string, size_t> index;
    std::unique_ptr<AtomicCounter[]> fired, held;
  };
  // One interface's calls, made the first time a call through it ends.
  struct InterfaceSeries {
    AtomicHistogram seconds;
    // By the code the caller got; guarded by by_interface_mu_.
    absl::flat_hash_map<std::string, std::unique_ptr<AtomicCounter>> calls;
  };
  RuleSetSeries& SeriesOf(const ruleset::CompiledRuleSet& rule_set)
      ABSL_LOCKS_EXCLUDED(by_digest_mu_);
  InterfaceSeries& SeriesOf(absl::string_view interface)
      ABSL_LOCKS_EXCLUDED(by_interface_mu_);
  // The request-path series, as Prometheus metric families.
  void CollectRequestPath(std::vector<prometheus::MetricFamily>& out) const
      ABSL_LOCKS_EXCLUDED(by_digest_mu_, by_interface_mu_);

  // Off the request path (a CDS call's cards, the audit writer's commits):
  // prometheus-cpp's own families.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& cards_;
  prometheus::Family<prometheus::Counter>& feedback_;
  prometheus::Family<prometheus::Counter>& commits_;
  prometheus::Histogram& commit_seconds_;
  prometheus::Histogram& commit_records_;

  // On the request path: relaxed atomics, collected at scrape time.
  AtomicHistogram evaluation_seconds_;
  mutable absl::Mutex by_digest_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<RuleSetSeries>> by_digest_
      ABSL_GUARDED_BY(by_digest_mu_);
  RuleSetSeries no_rule_set_;  // evaluations that found no rule set
  mutable absl::Mutex by_interface_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<InterfaceSeries>>
      by_interface_ ABSL_GUARDED_BY(by_interface_mu_);

  std::shared_ptr<Collector> collector_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_METRICS_SERVICE_METRICS_H_
