// What a caller waits for: evaluating the bundled rule set on each example
// assessment (the engine alone, and the full decision path with validation),
// and loading plus compiling a rule set.
//
//   build/release/reconnect_bench --benchmark_min_time=0.5

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "benchmark/benchmark.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/assessment.pb.h"
#include "service/api/decision_support_service.h"
#include "service/audit/audit_store.h"
#include "service/decision/decision_engine.h"
#include "service/decision/rule_set_registry.h"
#include "service/metrics/service_metrics.h"

namespace reconnect {
namespace {

const std::string kSource = RECONNECT_SOURCE_DIR;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const ruleset::CompiledRuleSet> BundledRuleSet() {
  static const auto rs =
      ruleset::LoadRuleSet(kSource + "/rules/reconnect/1.0.5").rule_set;
  return rs;
}

v1::Assessment Example(const std::string& name) {
  v1::Assessment a;
  if (!google::protobuf::util::JsonStringToMessage(
           ReadFile(kSource + "/examples/" + name), &a)
           .ok()) {
    std::abort();
  }
  return a;
}

void BM_EvaluateRuleSet(benchmark::State& state, const std::string& example) {
  const auto rs = BundledRuleSet();
  const v1::Assessment a = Example(example);
  // The service builds each response on a per-call arena, with its
  // options; so does this.
  for (auto _ : state) {
    service::CallArena arena;
    auto* out =
        google::protobuf::Arena::CreateMessage<v1::Recommendation>(arena.get());
    rs->Evaluate(a, *out);
    benchmark::DoNotOptimize(out);
  }
}

// The conditions alone: every rule's `when`, with the definitions it uses,
// and nothing assembled. The work bench/cel_js_bench.mjs gives cel-js.
void BM_Conditions(benchmark::State& state, const std::string& example) {
  const auto rs = BundledRuleSet();
  const v1::Assessment a = Example(example);
  std::vector<bool> met;
  for (auto _ : state) {
    rs->EvaluateConditions(a, met);
    benchmark::DoNotOptimize(met);
  }
  state.counters["rules_met"] =
      static_cast<double>(std::count(met.begin(), met.end(), true));
}

// The same evaluation, asked why each other rule did not fire (the deciding
// clause of each condition not met, and what was held back): what an MDT's
// "why not" costs beside a plain evaluation.
void BM_EvaluateWhyNot(benchmark::State& state, const std::string& example) {
  const auto rs = BundledRuleSet();
  const v1::Assessment a = Example(example);
  size_t explained = 0;
  for (auto _ : state) {
    service::CallArena arena;
    auto* response =
        google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(
            arena.get());
    ruleset::CompiledRuleSet::Explain explain;
    explain.why_not = response->mutable_why_not();
    rs->Evaluate(a, *response->mutable_recommendation(), nullptr, &explain);
    explained = response->why_not_size();
    benchmark::DoNotOptimize(response);
  }
  state.counters["rules_explained"] = static_cast<double>(explained);
}

// The same evaluation, asked only which absent facts could change the plan
// (CEL's partial evaluation of the rules not met, with the default budget):
// the missing-data part of an explained call on its own.
void BM_EvaluateMissingData(benchmark::State& state,
                            const std::string& example) {
  const auto rs = BundledRuleSet();
  const v1::Assessment a = Example(example);
  size_t missing = 0;
  bool complete = true;
  for (auto _ : state) {
    service::CallArena arena;
    auto* response =
        google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(
            arena.get());
    ruleset::CompiledRuleSet::Explain explain;
    explain.missing_data = response->mutable_missing_data();
    rs->Evaluate(a, *response->mutable_recommendation(), nullptr, &explain);
    missing = response->missing_data().facts_size();
    complete = complete && response->missing_data().complete();
    benchmark::DoNotOptimize(response);
  }
  if (!complete) state.SkipWithError("the budget ran out");
  state.counters["facts_missing"] = static_cast<double>(missing);
}

// With `metered`, as a server with --metrics_listen decides: the engine
// reports each evaluation to the metrics, and the call's end is counted.
void BM_Decide(benchmark::State& state, const std::string& example,
               bool metered) {
  service::RuleSetRegistry registry;
  registry.Add(BundledRuleSet(), true);
  service::DecisionEngine engine(registry);
  service::ServiceMetrics metrics;
  if (metered) engine.set_observer(&metrics);
  v1::EvaluateRequest request;
  *request.mutable_assessment() = Example(example);
  for (auto _ : state) {
    const absl::Time arrived = metered ? absl::Now() : absl::InfinitePast();
    service::CallArena arena;
    auto* response =
        google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(
            arena.get());
    std::vector<service::FieldViolation> violations;
    const absl::Status s = engine.Evaluate(request, *response, violations);
    if (!s.ok()) state.SkipWithError("evaluation failed");
    if (metered) {
      metrics.CallEnded("grpc", absl::StatusCodeToString(s.code()),
                        absl::Now() - arrived);
    }
    benchmark::DoNotOptimize(response);
  }
}

// A call asking why not, as the API answers it (the why-not and the missing
// data): what a caller waits for beside BM_Decide.
void BM_DecideWhyNot(benchmark::State& state, const std::string& example) {
  service::RuleSetRegistry registry;
  registry.Add(BundledRuleSet(), true);
  service::DecisionEngine engine(registry);
  v1::EvaluateRequest request;
  *request.mutable_assessment() = Example(example);
  request.set_explanation(v1::EXPLANATION_WHY_NOT);
  for (auto _ : state) {
    service::CallArena arena;
    auto* response =
        google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(
            arena.get());
    std::vector<service::FieldViolation> violations;
    const absl::Status s = engine.Evaluate(request, *response, violations);
    if (!s.ok() || response->why_not_size() == 0) {
      state.SkipWithError("evaluation failed");
    }
    benchmark::DoNotOptimize(response);
  }
}

// A decision id (a UUIDv7 from the time and random bytes), as Decide makes
// one per call.
void BM_NewDecisionId(benchmark::State& state) {
  const absl::Time now = absl::Now();
  for (auto _ : state) {
    absl::StatusOr<std::string> id = service::NewDecisionId(now);
    if (!id.ok()) state.SkipWithError("no decision id");
    benchmark::DoNotOptimize(id);
  }
}

void BM_LoadBundledRuleSet(benchmark::State& state) {
  for (auto _ : state) {
    auto r = ruleset::LoadRuleSet(kSource + "/rules/reconnect/1.0.5");
    if (!r.rule_set) state.SkipWithError("the bundled rule set did not load");
    benchmark::DoNotOptimize(r);
  }
}

// The bundled rule set grown to 150 rules by repeating its rules under new
// ids, to measure load time at the size DESIGN.md sets a target for.
void BM_Load150Rules(benchmark::State& state) {
  const auto dir =
      std::filesystem::temp_directory_path() / "reconnect-bench-150";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kSource + "/rules/reconnect/1.0.5", dir,
                        std::filesystem::copy_options::recursive);
  nlohmann::json all = nlohmann::json::array();
  for (const auto& entry : std::filesystem::directory_iterator(dir / "rules")) {
    const auto j =
        nlohmann::json::parse(ReadFile(entry.path()), nullptr, true, true);
    for (const auto& rule : j["rules"]) all.push_back(rule);
  }
  nlohmann::json extra = nlohmann::json::array();
  for (int copy = 1; all.size() + extra.size() < 150; ++copy) {
    for (auto rule : all) {
      if (all.size() + extra.size() >= 150) break;
      rule["id"] =
          rule["id"].get<std::string>() + ".copy" + std::to_string(copy);
      extra.push_back(rule);
    }
  }
  std::ofstream(dir / "rules" / "zz_extra.json")
      << nlohmann::json{{"rules", extra}}.dump();
  for (auto _ : state) {
    auto r = ruleset::LoadRuleSet(dir);
    if (!r.rule_set || r.rule_set->rule_count() != 150)
      state.SkipWithError("did not load 150 rules");
    benchmark::DoNotOptimize(r);
  }
  std::filesystem::remove_all(dir);
}

// The audit store alone: records the size the service writes (the example's
// assessment and recommendation), appended with 64 in flight as the service
// does under load, each waited for until committed. Real time per record is
// what a caller waits for in throughput terms; process CPU includes the
// writer and completion threads and the kernel's share is not counted.
void BM_AuditAppend(benchmark::State& state) {
  const auto dir =
      std::filesystem::temp_directory_path() / "reconnect-bench-audit";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = service::AuditStore::Open({.path = (dir / "audit.db").string()});
  if (!store.ok()) {
    state.SkipWithError("the audit store did not open");
    return;
  }
  // As the service does on loading it: the rule set is recorded once, and
  // its decisions are packed with it as dictionary.
  const auto& meta = BundledRuleSet()->metadata();
  if (!(*store)
           ->RecordRuleSet(BundledRuleSet()->digest(), meta.id, meta.version,
                           BundledRuleSet()->canonical_content())
           .ok()) {
    state.SkipWithError("the rule set was not recorded");
    return;
  }
  const v1::Assessment a = Example("catastrophising-performance-beliefs.json");
  v1::Recommendation rec;
  BundledRuleSet()->Evaluate(a, rec);
  service::DecisionRecord proto;
  proto.calling_system = "bench";
  proto.rule_set_digest = BundledRuleSet()->digest();
  a.SerializeToString(&proto.assessment);
  rec.SerializeToString(&proto.recommendation);
  constexpr int kInFlight = 64;
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int64_t n = 0;
  for (auto _ : state) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < kInFlight; });
      ++in_flight;
    }
    service::DecisionRecord r = proto;
    r.decision_id = *service::NewDecisionId();  // as the service makes them
    r.time_micros = ++n;
    (*store)->Append(std::move(r), [&](const absl::Status&) {
      std::lock_guard<std::mutex> lock(mu);
      --in_flight;
      cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  state.counters["bytes_per_record"] = static_cast<double>(
      proto.assessment.size() + proto.recommendation.size());
  state.counters["records_per_transaction"] =
      static_cast<double>(n) / static_cast<double>((*store)->transactions());
  store->reset();
  // What the records take on disk once the store is closed (its write-ahead
  // log checkpointed), with the schema's few pages shared among them.
  uintmax_t stored = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    stored += entry.file_size();
  }
  state.counters["stored_bytes_per_record"] =
      static_cast<double>(stored) / static_cast<double>(n);
  std::filesystem::remove_all(dir);
}

void RegisterAll() {
  for (const auto& entry :
       std::filesystem::directory_iterator(kSource + "/examples")) {
    if (entry.path().extension() != ".json") continue;
    const std::string name = entry.path().filename().string();
    benchmark::RegisterBenchmark(("BM_EvaluateRuleSet/" + name).c_str(),
                                 BM_EvaluateRuleSet, name)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Conditions/" + name).c_str(),
                                 BM_Conditions, name)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_EvaluateWhyNot/" + name).c_str(),
                                 BM_EvaluateWhyNot, name)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_EvaluateMissingData/" + name).c_str(),
                                 BM_EvaluateMissingData, name)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Decide/" + name).c_str(), BM_Decide, name,
                                 false)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_DecideMetered/" + name).c_str(),
                                 BM_Decide, name, true)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_DecideWhyNot/" + name).c_str(),
                                 BM_DecideWhyNot, name)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_NewDecisionId", BM_NewDecisionId)
      ->Unit(benchmark::kNanosecond);
  benchmark::RegisterBenchmark("BM_LoadBundledRuleSet", BM_LoadBundledRuleSet)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Load150Rules", BM_Load150Rules)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_AuditAppend", BM_AuditAppend)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime()
      ->MeasureProcessCPUTime();
}

}  // namespace
}  // namespace reconnect

int main(int argc, char** argv) {
  reconnect::RegisterAll();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
