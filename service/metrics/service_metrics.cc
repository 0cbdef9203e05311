#include "service/metrics/service_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"
#include "service/common/today.h"

namespace reconnect::service {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// An evaluation takes microseconds; a call, or an audit commit (a sync to
// disk), from a fraction of a millisecond up. In nanoseconds.
std::vector<int64_t> EvaluationBounds() {
  return {1'000,   2'500,   5'000,   10'000,    25'000,     50'000,
          100'000, 250'000, 500'000, 1'000'000, 10'000'000, 100'000'000};
}
std::vector<int64_t> CallBounds() {
  return {100'000,       250'000,       500'000,       1'000'000,
          2'500'000,     5'000'000,     10'000'000,    25'000'000,
          50'000'000,    100'000'000,   250'000'000,   500'000'000,
          1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
}
prometheus::Histogram::BucketBoundaries InSeconds(
    const std::vector<int64_t>& nanos) {
  prometheus::Histogram::BucketBoundaries out;
  for (int64_t n : nanos) out.push_back(static_cast<double>(n) / 1e9);
  return out;
}
const prometheus::Histogram::BucketBoundaries& GroupBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  return *b;
}
constexpr double kNanosecond = 1e-9;

// "alert/CODE" -> "alert"; "plan" -> "plan".
std::string KindOf(absl::string_view item) {
  return std::string(item.substr(0, item.find('/')));
}

ClientMetric Sample(double value, std::vector<ClientMetric::Label> labels = {},
                    bool counter = false) {
  ClientMetric m;
  m.label = std::move(labels);
  if (counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

MetricFamily Family(std::string name, std::string help, MetricType type,
                    std::vector<ClientMetric> samples) {
  return {std::move(name), std::move(help), type, std::move(samples)};
}

// The process's resident and virtual memory, in bytes, from /proc.
std::pair<double, double> ProcessMemory() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) {
      pages_total = pages_resident = 0;
    }
    std::fclose(f);
  }
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  return {page * static_cast<double>(pages_resident),
          page * static_cast<double>(pages_total)};
}

double ProcessCpuSeconds() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

}  // namespace

// What a scrape reads beside prometheus-cpp's registry: the request-path
// series, and the service's parts.
class ServiceMetrics::Collector final : public prometheus::Collectable {
 public:
  explicit Collector(const ServiceMetrics& metrics) : metrics_(metrics) {}

  void Set(Sources sources) {
    absl::MutexLock lock(&mu_);
    sources_ = sources;
  }

  std::vector<MetricFamily> Collect() const override {
    Sources s;
    {
      absl::MutexLock lock(&mu_);
      s = sources_;
    }
    std::vector<MetricFamily> out;
    metrics_.CollectRequestPath(out);
    if (s.limits != nullptr) {
      out.push_back(Family("reconnect_calls_in_flight",
                           "Calls being answered now, across interfaces.",
                           MetricType::Gauge, {Sample(s.limits->in_flight())}));
      out.push_back(
          Family("reconnect_calls_shed_total",
                 "Calls refused at once because the limit of calls in flight "
                 "(--max_concurrent_calls) was reached.",
                 MetricType::Counter,
                 {Sample(static_cast<double>(s.limits->shed()), {}, true)}));
    }
    if (s.audit != nullptr) {
      out.push_back(Family(
          "reconnect_audit_queue_depth",
          "Records and feedback requests waiting for the audit writer.",
          MetricType::Gauge, {Sample(static_cast<double>(s.audit->queued()))}));
      out.push_back(
          Family("reconnect_audit_store_up",
                 "1 while the audit store's last write succeeded; 0 while it "
                 "cannot write (decisions are then refused).",
                 MetricType::Gauge, {Sample(s.audit->healthy() ? 1 : 0)}));
    }
    if (s.versions != nullptr) {
      const RuleSetVersions::Counts c = s.versions->counts();
      out.push_back(Family(
          "reconnect_rule_set_reloads_total",
          "Rule-set reloads: served (something loaded, perhaps with some "
          "versions refused) or refused (nothing could be served; the "
          "versions before kept serving).",
          MetricType::Counter,
          {Sample(static_cast<double>(c.reloads), {{"result", "served"}}, true),
           Sample(static_cast<double>(c.reloads_refused),
                  {{"result", "refused"}}, true)}));
      out.push_back(Family(
          "reconnect_rule_set_versions_refused_total",
          "Rule-set version directories refused by reloads (they failed to "
          "load, lint or pass their test cases).",
          MetricType::Counter,
          {Sample(static_cast<double>(c.versions_refused), {}, true)}));
      out.push_back(Family(
          "reconnect_rule_set_versions_refused",
          "Version directories the last reload refused.", MetricType::Gauge,
          {Sample(static_cast<double>(s.versions->refusals().size()))}));
    }
    if (s.registry != nullptr) {
      const auto active = s.registry->Active();
      std::vector<ClientMetric> loaded;
      for (const auto& v : s.registry->All()) {
        loaded.push_back(
            Sample(1, {{"rule_set_id", v->metadata().id},
                       {"rule_set_version", v->metadata().version},
                       {"digest", v->digest()},
                       {"active", v == active ? "true" : "false"}}));
      }
      out.push_back(Family("reconnect_rule_set_loaded",
                           "1 for each rule-set version being served.",
                           MetricType::Gauge, std::move(loaded)));
      // Review dates: a version past its own still serves, loudly.
      const std::string today = TodayOrUtc(absl::Now());
      std::vector<ClientMetric> past_rules, past_set;
      for (const auto& v : s.registry->All()) {
        int past = 0;
        for (size_t i = 0; i < v->rule_count(); ++i) {
          const std::string& due = v->rule_review_by(i);
          if (!due.empty() && due < today) ++past;
        }
        const std::vector<ClientMetric::Label> labels = {
            {"rule_set_id", v->metadata().id},
            {"rule_set_version", v->metadata().version}};
        past_rules.push_back(Sample(past, labels));
        const std::string& own = v->metadata().review_by;
        past_set.push_back(Sample(!own.empty() && own < today ? 1 : 0, labels));
      }
      out.push_back(Family("reconnect_rules_past_review",
                           "Rules of a served version past their clinical "
                           "review date (their own, or the version's).",
                           MetricType::Gauge, std::move(past_rules)));
      out.push_back(Family("reconnect_rule_set_past_review",
                           "1 when a served version is past its own clinical "
                           "review date; it still serves.",
                           MetricType::Gauge, std::move(past_set)));
    }
    const auto [resident, virtual_bytes] = ProcessMemory();
    out.push_back(Family("process_resident_memory_bytes",
                         "Resident memory size in bytes.", MetricType::Gauge,
                         {Sample(resident)}));
    out.push_back(Family("process_virtual_memory_bytes",
                         "Virtual memory size in bytes.", MetricType::Gauge,
                         {Sample(virtual_bytes)}));
    out.push_back(Family("process_cpu_seconds_total",
                         "User and system CPU time spent, in seconds.",
                         MetricType::Counter,
                         {Sample(ProcessCpuSeconds(), {}, true)}));
    return out;
  }

 private:
  const ServiceMetrics& metrics_;
  mutable absl::Mutex mu_;
  Sources sources_ ABSL_GUARDED_BY(mu_);
};

ServiceMetrics::ServiceMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      cards_(prometheus::BuildCounter()
                 .Name("reconnect_cds_cards_total")
                 .Help("CDS Hooks cards issued, by CDS service and card kind "
                       "(plan, alert, ...).")
                 .Register(*registry_)),
      feedback_(prometheus::BuildCounter()
                    .Name("reconnect_feedback_total")
                    .Help("Feedback stored in the audit trail, by where it "
                          "came from (a CDS service, or mdt), the kind of "
                          "item it was on and its outcome (accepted, "
                          "modified, overridden).")
                    .Register(*registry_)),
      commits_(prometheus::BuildCounter()
                   .Name("reconnect_audit_commits_total")
                   .Help("Audit-store group commits, by result (ok, failed).")
                   .Register(*registry_)),
      commit_seconds_(prometheus::BuildHistogram()
                          .Name("reconnect_audit_commit_seconds")
                          .Help("Time to write and commit one group of "
                                "audit records.")
                          .Register(*registry_)
                          .Add({}, InSeconds(CallBounds()))),
      commit_records_(prometheus::BuildHistogram()
                          .Name("reconnect_audit_commit_records")
                          .Help("Records (decisions and feedback requests) "
                                "per group commit.")
                          .Register(*registry_)
                          .Add({}, GroupBuckets())),
      evaluation_seconds_(EvaluationBounds(), kNanosecond),
      collector_(std::make_shared<Collector>(*this)) {}

ServiceMetrics::~ServiceMetrics() = default;

void ServiceMetrics::Watch(Sources sources) { collector_->Set(sources); }

std::vector<std::shared_ptr<prometheus::Collectable>>
ServiceMetrics::collectables() const {
  return {registry_, collector_};
}

std::string ServiceMetrics::Scrape() const {
  std::vector<MetricFamily> all = registry_->Collect();
  for (MetricFamily& f : collector_->Collect()) all.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(all);
}

ServiceMetrics::RuleSetSeries& ServiceMetrics::SeriesOf(
    const ruleset::CompiledRuleSet& rule_set) {
  {
    absl::ReaderMutexLock lock(&by_digest_mu_);
    if (auto it = by_digest_.find(rule_set.digest()); it != by_digest_.end()) {
      return *it->second;
    }
  }
  // First sight of this version: a series for every rule, so that a rule
  // that never fires shows as 0 rather than not at all.
  auto series = std::make_unique<RuleSetSeries>();
  series->id = rule_set.metadata().id;
  series->version = rule_set.metadata().version;
  const size_t n = rule_set.rule_count();
  series->fired.reset(new AtomicCounter[n]);
  series->held.reset(new AtomicCounter[n]);
  for (size_t i = 0; i < n; ++i) {
    series->rules.push_back(rule_set.rule_id(i));
    series->index.emplace(rule_set.rule_id(i), i);
    series->fired[i].store(0);
    series->held[i].store(0);
  }
  absl::MutexLock lock(&by_digest_mu_);
  auto [it, inserted] =
      by_digest_.try_emplace(rule_set.digest(), std::move(series));
  return *it->second;
}

void ServiceMetrics::Evaluated(const ruleset::CompiledRuleSet* rule_set,
                               absl::StatusCode code,
                               const v1::Recommendation* plan,
                               absl::Duration took) {
  evaluation_seconds_.Observe(absl::ToInt64Nanoseconds(took));
  RuleSetSeries& series =
      rule_set != nullptr ? SeriesOf(*rule_set) : no_rule_set_;
  const size_t c = static_cast<size_t>(code) < series.decisions.size()
                       ? static_cast<size_t>(code)
                       : static_cast<size_t>(absl::StatusCode::kUnknown);
  series.decisions[c].fetch_add(1, std::memory_order_relaxed);
  if (plan == nullptr || rule_set == nullptr) return;
  // The rules behind the plan's items (the same as OutcomesOf reads, without
  // copying their ids); a rule behind several items, or held by several
  // rules, is counted once.
  absl::InlinedVector<size_t, 64> fired, held;
  auto add = [&](const std::string& rule, absl::InlinedVector<size_t, 64>& to) {
    if (auto it = series.index.find(rule); it != series.index.end()) {
      to.push_back(it->second);
    }
  };
  auto add_reasons = [&](const v1::Rationale& rationale) {
    for (const v1::RuleReason& r : rationale.reasons()) add(r.rule_id(), fired);
  };
  for (const auto& comp : plan->components()) {
    for (const auto& t : comp.techniques()) add_reasons(t.rationale());
  }
  for (const auto& g : plan->skills_gaps()) add_reasons(g.rationale());
  for (const auto& p : plan->prompts()) add_reasons(p.rationale());
  for (const auto& a : plan->alerts()) add_reasons(a.rationale());
  for (const auto& con : plan->considerations()) add_reasons(con.rationale());
  for (const v1::HeldItem& h : plan->held()) {
    for (const std::string& rule : h.recommended_by()) {
      add(rule, fired);
      add(rule, held);
    }
  }
  for (auto [indices, counters] : {std::pair(&fired, series.fired.get()),
                                   std::pair(&held, series.held.get())}) {
    std::sort(indices->begin(), indices->end());
    indices->erase(std::unique(indices->begin(), indices->end()),
                   indices->end());
    for (size_t i : *indices) {
      counters[i].fetch_add(1, std::memory_order_relaxed);
    }
  }
}

ServiceMetrics::InterfaceSeries& ServiceMetrics::SeriesOf(
    absl::string_view interface) {
  {
    absl::ReaderMutexLock lock(&by_interface_mu_);
    if (auto it = by_interface_.find(interface); it != by_interface_.end()) {
      return *it->second;
    }
  }
  absl::MutexLock lock(&by_interface_mu_);
  auto& series = by_interface_[interface];
  if (series == nullptr) {
    series.reset(new InterfaceSeries{{CallBounds(), kNanosecond}, {}});
  }
  return *series;
}

void ServiceMetrics::CallEnded(std::string_view interface,
                               std::string_view code, absl::Duration took) {
  InterfaceSeries& series =
      SeriesOf(absl::string_view(interface.data(), interface.size()));
  series.seconds.Observe(absl::ToInt64Nanoseconds(took));
  const absl::string_view key(code.data(), code.size());
  {
    absl::ReaderMutexLock lock(&by_interface_mu_);
    if (auto it = series.calls.find(key); it != series.calls.end()) {
      it->second->fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  absl::MutexLock lock(&by_interface_mu_);
  auto& counter = series.calls[key];
  if (counter == nullptr) counter = std::make_unique<AtomicCounter>(0);
  counter->fetch_add(1, std::memory_order_relaxed);
}

void ServiceMetrics::CollectRequestPath(std::vector<MetricFamily>& out) const {
  std::vector<ClientMetric> decisions, fired, held, calls, call_seconds;
  auto uint = [](const AtomicCounter& c) {
    return static_cast<double>(c.load(std::memory_order_relaxed));
  };
  {
    // Summed by id and version: a version edited in place has two digests.
    std::map<std::tuple<std::string, std::string, std::string>, double>
        by_status, by_fired, by_held;
    auto add_series = [&](const RuleSetSeries& s) {
      for (size_t c = 0; c < s.decisions.size(); ++c) {
        const double n = uint(s.decisions[c]);
        if (n == 0) continue;
        by_status[{
            s.id, s.version,
            absl::StatusCodeToString(static_cast<absl::StatusCode>(c))}] += n;
      }
      for (size_t i = 0; i < s.rules.size(); ++i) {
        by_fired[{s.id, s.version, s.rules[i]}] += uint(s.fired[i]);
        by_held[{s.id, s.version, s.rules[i]}] += uint(s.held[i]);
      }
    };
    add_series(no_rule_set_);
    {
      absl::ReaderMutexLock lock(&by_digest_mu_);
      for (const auto& [digest, s] : by_digest_) add_series(*s);
    }
    for (const auto& [k, n] : by_status) {
      decisions.push_back(Sample(n,
                                 {{"rule_set_id", std::get<0>(k)},
                                  {"rule_set_version", std::get<1>(k)},
                                  {"status", std::get<2>(k)}},
                                 true));
    }
    for (auto [from, to] :
         {std::pair(&by_fired, &fired), std::pair(&by_held, &held)}) {
      for (const auto& [k, n] : *from) {
        to->push_back(Sample(n,
                             {{"rule_set_id", std::get<0>(k)},
                              {"rule_set_version", std::get<1>(k)},
                              {"rule", std::get<2>(k)}},
                             true));
      }
    }
  }
  {
    absl::ReaderMutexLock lock(&by_interface_mu_);
    for (const auto& [interface, s] : by_interface_) {
      call_seconds.push_back(s->seconds.Collect({{"interface", interface}}));
      for (const auto& [code, n] : s->calls) {
        calls.push_back(
            Sample(uint(*n), {{"interface", interface}, {"code", code}}, true));
      }
    }
  }
  out.push_back(Family("reconnect_decisions_total",
                       "Evaluations, by the rule-set version asked for and "
                       "how they ended (OK, INVALID_ARGUMENT, NOT_FOUND, "
                       "UNAVAILABLE). Whether the answer reached its caller "
                       "is in reconnect_calls_total.",
                       MetricType::Counter, std::move(decisions)));
  out.push_back(Family("reconnect_evaluation_seconds",
                       "Time to validate and evaluate one request and build "
                       "its answer.",
                       MetricType::Histogram,
                       {evaluation_seconds_.Collect({})}));
  out.push_back(Family("reconnect_calls_total",
                       "Calls that asked for a decision, by interface (grpc, "
                       "cds-hooks, fhir) and what the caller got (a gRPC "
                       "status name, or an HTTP status). Calls shed before "
                       "admission are in reconnect_calls_shed_total.",
                       MetricType::Counter, std::move(calls)));
  out.push_back(Family("reconnect_call_seconds",
                       "Time from a call's arrival to its answer, audit "
                       "commit included, by interface.",
                       MetricType::Histogram, std::move(call_seconds)));
  out.push_back(Family("reconnect_rule_fired_total",
                       "Decisions in which a rule's condition held.",
                       MetricType::Counter, std::move(fired)));
  out.push_back(Family("reconnect_rule_held_total",
                       "Decisions in which a rule fired but something it "
                       "recommends was held back by a rule of higher "
                       "priority.",
                       MetricType::Counter, std::move(held)));
}

void ServiceMetrics::CardsIssued(const std::vector<IssuedCard>& cards) {
  for (const IssuedCard& card : cards) {
    cards_.Add({{"service", card.service}, {"kind", KindOf(card.item)}})
        .Increment();
  }
}

void ServiceMetrics::Committed(const CommitReport& report) {
  commits_.Add({{"result", report.ok ? "ok" : "failed"}}).Increment();
  commit_seconds_.Observe(absl::ToDoubleSeconds(report.took));
  commit_records_.Observe(report.decisions + report.feedback_requests);
  for (const CommitReport::Feedback& f : report.feedback) {
    feedback_
        .Add({{"service", f.service},
              {"kind", KindOf(f.item)},
              {"outcome", f.outcome}})
        .Increment();
  }
}

}  // namespace reconnect::service
