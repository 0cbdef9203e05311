// Fills an audit store with generated decisions and feedback, for the
// governance console's benchmark (bench/console_bench.sh): each decision is
// one of the examples/ assessments decided by the bundled rule set, with
// its real recommendation and rule outcomes, spread evenly over a number of
// days and three calling systems; every Nth decision gets MDT feedback on
// one of its items (accepted, modified or declined with a coded reason and
// a comment), written through the store as the service writes it.
//
//   reconnect_console_store --out=FILE --decisions=1000000 --days=365
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/util/json_util.h"
#include "reconnect/v1/assessment.pb.h"
#include "reconnect/v1/recommendation.pb.h"
#include "service/audit/audit_store.h"
#include "service/audit/rule_outcomes.h"

ABSL_FLAG(std::string, out, "", "the audit store file to create");
ABSL_FLAG(std::string, source, RECONNECT_SOURCE_DIR,
          "the source tree (rules/reconnect and examples/)");
ABSL_FLAG(int64_t, decisions, 1'000'000, "decisions to write");
ABSL_FLAG(int64_t, days, 365, "days, up to today, to spread them over");
ABSL_FLAG(int64_t, feedback_every, 20, "feedback on every Nth decision");

namespace {

using reconnect::service::AuditStore;
using reconnect::service::DecisionRecord;
using reconnect::service::FeedbackRecord;
using reconnect::service::OutcomesOf;
using reconnect::service::RuleOutcomes;

struct Example {
  std::string assessment;      // serialized
  std::string recommendation;  // serialized
  RuleOutcomes outcomes;
  std::string item;  // "technique/CODE" of its first technique, or ""
};

int Fail(const std::string& why) {
  std::cerr << "reconnect_console_store: " << why << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string out = absl::GetFlag(FLAGS_out);
  const std::filesystem::path source = absl::GetFlag(FLAGS_source);
  const int64_t n = absl::GetFlag(FLAGS_decisions);
  const int64_t days = absl::GetFlag(FLAGS_days);
  const int64_t every = absl::GetFlag(FLAGS_feedback_every);
  if (out.empty() || n < 1 || days < 1 || every < 1) {
    return Fail(
        "--out is required; --decisions, --days and --feedback_every "
        "must be at least 1");
  }
  std::filesystem::remove(out);
  auto loaded =
      reconnect::ruleset::LoadRuleSet(source / "rules/reconnect/1.0.5");
  if (!loaded.rule_set) return Fail("the bundled rule set does not load");
  const auto& rs = *loaded.rule_set;

  // In name order, so that decision bench-N is always the same example.
  std::vector<std::filesystem::path> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(source / "examples")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Example> examples;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::stringstream json;
    json << in.rdbuf();
    reconnect::v1::Assessment assessment;
    if (!google::protobuf::util::JsonStringToMessage(json.str(), &assessment)
             .ok()) {
      return Fail(absl::StrCat(path.string(), " is not an assessment"));
    }
    reconnect::v1::Recommendation plan;
    rs.Evaluate(assessment, plan);
    Example e;
    e.assessment = assessment.SerializeAsString();
    e.recommendation = plan.SerializeAsString();
    e.outcomes = OutcomesOf(plan);
    if (!plan.components().empty() &&
        !plan.components(0).techniques().empty()) {
      e.item =
          absl::StrCat("technique/", plan.components(0).techniques(0).code());
    }
    examples.push_back(std::move(e));
  }
  if (examples.empty()) return Fail("examples/ holds no assessment");

  auto store = AuditStore::Open({out});
  if (!store.ok()) return Fail(std::string(store.status().message()));
  if (auto s = (*store)->RecordRuleSet(rs.digest(), rs.metadata().id,
                                       rs.metadata().version,
                                       rs.canonical_content());
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  const char* systems[] = {"ehr-east", "ehr-west", "mdt-portal"};
  const char* outcomes[] = {"accepted", "modified", "overridden"};
  const int64_t last = absl::ToUnixMicros(absl::Now());
  const int64_t span = days * 86'400'000'000;
  const absl::Time started = absl::Now();
  constexpr int64_t kBatch = 20'000;  // in flight at once, to bound memory
  int64_t feedback = 0;
  for (int64_t first = 0; first < n; first += kBatch) {
    const int64_t end = std::min(n, first + kBatch);
    std::atomic<int64_t> left{end - first};
    std::atomic<int64_t> failed{0};
    std::promise<void> done;
    for (int64_t i = first; i < end; ++i) {
      const Example& e = examples[i % examples.size()];
      DecisionRecord r;
      r.decision_id = absl::StrCat("bench-", i);
      r.time_micros = last - span + span / n * i;
      r.calling_system = systems[i % 3];
      r.caller = absl::StrCat("jwt:", systems[i % 3]);
      r.rule_set_digest = rs.digest();
      r.assessment = e.assessment;
      r.recommendation = e.recommendation;
      r.outcomes = e.outcomes;
      (*store)->Append(std::move(r), [&](const absl::Status& s) {
        if (!s.ok()) ++failed;
        if (--left == 0) done.set_value();
      });
    }
    done.get_future().wait();
    if (failed > 0) return Fail(absl::StrCat(failed.load(), " appends failed"));
    // Feedback on every Nth decision of the batch, once it is stored.
    std::vector<FeedbackRecord> entries;
    for (int64_t i = first; i < end; ++i) {
      const Example& e = examples[i % examples.size()];
      if (i % every != 0 || e.item.empty() || e.outcomes.fired.empty()) {
        continue;
      }
      FeedbackRecord f;
      f.time_micros = last - span + span / n * i + 3'600'000'000;
      f.caller = "jwt:mdt-lead";
      f.service = "mdt";
      f.card_uuid = absl::StrCat("bench-item-", i);
      f.outcome = outcomes[(i / every) % 3];
      f.outcome_time = absl::FormatTime(absl::FromUnixMicros(f.time_micros));
      if (f.outcome == "overridden") {
        f.override_reason =
            R"({"reason":{"system":"http://terminology.hl7.org/CodeSystem/)"
            R"(non-adherence-reason-codes","code":"does-not-align-preferences",)"
            R"("display":"Recommendation does not align with patient )"
            R"(preferences or values"},"userComment":"Prefers to start later."})";
      }
      f.decision_id = absl::StrCat("bench-", i);
      f.card_item = e.item;
      f.rule_ids = {e.outcomes.fired.front()};
      entries.push_back(std::move(f));
    }
    if (!entries.empty()) {
      std::promise<absl::Status> stored;
      feedback += static_cast<int64_t>(entries.size());
      (*store)->AppendFeedback(
          std::move(entries), [&](const reconnect::service::FeedbackResult& r) {
            stored.set_value(r.status);
          });
      if (auto s = stored.get_future().get(); !s.ok()) {
        return Fail(std::string(s.message()));
      }
    }
  }
  store->reset();  // commits and closes
  std::cout << "wrote " << n << " decisions and " << feedback
            << " feedback records over " << days << " days to " << out << " in "
            << absl::FormatDuration(absl::Now() - started) << " ("
            << std::filesystem::file_size(out) / (1 << 20) << " MiB)\n";
  return 0;
}
