// Replay and impact analysis over a real audit store: recorded decisions
// replay identically with the rule set the store kept, an altered record
// shows what differs, and a candidate's impact is counted per item.

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/ruleset/diff.h"
#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "service/audit/impact.h"
#include "service/audit/replay.h"
#include "service/decision/decision_engine.h"
#include "tests/testing/examples.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
namespace fs = std::filesystem;

constexpr const char* kExamples[] = {
    "catastrophising-performance-beliefs.json", "no-partner.json",
    "avoidance-touch-intolerance.json", "red-flag-bleeding.json"};

// The bundled rule set without the rule `id`.
std::shared_ptr<const ruleset::CompiledRuleSet> Without(
    const ruleset::CompiledRuleSet& rs, const std::string& id) {
  nlohmann::json doc = nlohmann::json::parse(rs.canonical_content());
  int removed = 0;
  for (auto& [file, content] : doc["rules"].items()) {
    auto& rules = content["rules"];
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i]["id"] == id) {
        rules.erase(i);
        ++removed;
        break;
      }
    }
  }
  EXPECT_EQ(removed, 1) << id;
  ruleset::LoadResult loaded = ruleset::LoadCanonicalRuleSet(
      doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  EXPECT_NE(loaded.rule_set, nullptr);
  return loaded.rule_set;
}

class ReplayImpactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/replay_impact_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    ruleset::LoadResult loaded = ruleset::LoadRuleSet(
        fs::path(RECONNECT_SOURCE_DIR) / "rules/reconnect/1.0.5");
    ASSERT_NE(loaded.rule_set, nullptr);
    rule_set_ = loaded.rule_set;
    auto opened = AuditStore::Open({dir_ + "/audit.db", 0});
    ASSERT_THAT(opened, IsOk());
    auto store = *std::move(opened);
    ASSERT_THAT(
        store->RecordRuleSet(rule_set_->digest(), rule_set_->metadata().id,
                             rule_set_->metadata().version,
                             rule_set_->canonical_content()),
        IsOk());
    registry_.Add(rule_set_, /*activate=*/true);
    DecisionEngine engine(registry_);
    for (const char* name : kExamples) {
      v1::EvaluateRequest request = testing_util::ExampleRequest(name, "t");
      v1::EvaluateResponse response;
      std::vector<FieldViolation> violations;
      ASSERT_THAT(engine.Evaluate(request, response, violations), IsOk());
      DecisionRecord r;
      r.decision_id = response.decision_id();
      r.time_micros = 1'790'000'000'000'000 + ids_.size();
      r.calling_system = "t";
      r.rule_set_digest = rule_set_->digest();
      r.assessment = request.assessment().SerializeAsString();
      r.recommendation = response.recommendation().SerializeAsString();
      ids_.push_back(r.decision_id);
      Append(*store, std::move(r));
    }
    // One record whose recommendation is not what its assessment gives:
    // the first example's answer filed under the second's assessment.
    DecisionRecord altered;
    altered.decision_id = "altered";
    altered.time_micros = 1'790'000'000'000'999;
    altered.calling_system = "t";
    altered.rule_set_digest = rule_set_->digest();
    v1::EvaluateRequest second =
        testing_util::ExampleRequest(kExamples[1], "t");
    v1::EvaluateRequest first = testing_util::ExampleRequest(kExamples[0], "t");
    altered.assessment = second.assessment().SerializeAsString();
    v1::EvaluateResponse answer;
    std::vector<FieldViolation> violations;
    ASSERT_THAT(engine.Evaluate(first, answer, violations), IsOk());
    altered.recommendation = answer.recommendation().SerializeAsString();
    Append(*store, std::move(altered));
    store.reset();  // closed: everything committed
    auto reader = AuditReader::Open(dir_ + "/audit.db");
    ASSERT_THAT(reader, IsOk());
    reader_ = *std::move(reader);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void Append(AuditStore& store, DecisionRecord r) {
    absl::Mutex mu;
    bool done = false;
    absl::Status status;
    store.Append(std::move(r), [&](const absl::Status& s) {
      absl::MutexLock lock(&mu);
      status = s;
      done = true;
    });
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&done));
    ASSERT_THAT(status, IsOk());
  }

  std::string dir_;
  std::shared_ptr<const ruleset::CompiledRuleSet> rule_set_;
  RuleSetRegistry registry_;
  std::vector<std::string> ids_;
  std::unique_ptr<AuditReader> reader_;
};

TEST_F(ReplayImpactTest, RecordedDecisionsReplayIdentically) {
  Replayer replayer(*reader_);
  for (const std::string& id : ids_) {
    absl::StatusOr<ReplayResult> r = replayer.Replay(id);
    ASSERT_THAT(r, IsOk()) << id;
    EXPECT_TRUE(r->identical) << id << ": " << r->differences;
    EXPECT_EQ(r->rule_set_digest, rule_set_->digest());
    EXPECT_THAT(r->differences, IsEmpty());
  }
}

TEST_F(ReplayImpactTest, AnAlteredRecordShowsWhatDiffers) {
  Replayer replayer(*reader_);
  absl::StatusOr<ReplayResult> r = replayer.Replay("altered");
  ASSERT_THAT(r, IsOk());
  EXPECT_FALSE(r->identical);
  EXPECT_THAT(r->differences, Not(IsEmpty()));
  EXPECT_THAT(
      replayer.Replay("no-such-decision"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-decision")));
}

TEST_F(ReplayImpactTest, TheSameRuleSetChangesNothing) {
  DecisionQuery everything;
  everything.end_micros = 1'790'000'000'000'999;  // leaves out "altered"
  absl::StatusOr<ImpactReport> report = AnalyzeImpact(
      *reader_, *rule_set_, everything, 3, [](int64_t) { return true; });
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->evaluated, static_cast<int64_t>(ids_.size()));
  EXPECT_EQ(report->changed, 0);
  EXPECT_THAT(report->items, IsEmpty());
}

TEST_F(ReplayImpactTest, ACandidateWithoutARuleCountsWhatItsDecisionsLose) {
  // Without the red-flag rule, the red-flag example (and only it) loses its
  // alert.
  auto candidate = Without(*rule_set_, "safety.red_flag");
  ASSERT_NE(candidate, nullptr);
  DecisionQuery everything;
  everything.end_micros = 1'790'000'000'000'999;
  absl::StatusOr<ImpactReport> report = AnalyzeImpact(
      *reader_, *candidate, everything, 3, [](int64_t) { return true; });
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->evaluated, static_cast<int64_t>(ids_.size()));
  EXPECT_EQ(report->changed, 1);
  const std::string& red_flag_decision = ids_[3];
  EXPECT_THAT(report->items,
              Contains(AllOf(Field(&ItemImpact::kind, "alert"),
                             Field(&ItemImpact::code, "medical_review_first"),
                             Field(&ItemImpact::lost, 1),
                             Field(&ItemImpact::gained, 0))));
  for (const ItemImpact& item : report->items) {
    EXPECT_THAT(item.examples, testing::ElementsAre(red_flag_decision))
        << item.kind << " " << item.code;
  }
}

TEST_F(ReplayImpactTest, ProgressCanStopAnImpactRun) {
  absl::StatusOr<ImpactReport> report = AnalyzeImpact(
      *reader_, *rule_set_, DecisionQuery{}, 3, [](int64_t) { return false; });
  EXPECT_THAT(report, StatusIs(absl::StatusCode::kCancelled));
}

TEST(DiffTest, NamesEveryChangeBetweenTwoVersions) {
  ruleset::LoadResult loaded = ruleset::LoadRuleSet(
      fs::path(RECONNECT_SOURCE_DIR) / "rules/reconnect/1.0.5");
  ASSERT_NE(loaded.rule_set, nullptr);
  const std::string from = loaded.rule_set->canonical_content();
  nlohmann::json doc = nlohmann::json::parse(from);
  doc["params"]["pcs_high"]["value"] = 32;
  doc["ruleset"]["version"] = "1.9.0";
  // Remove the first rule of the first rule file.
  auto& first_file = doc["rules"].begin().value();
  const std::string removed = first_file["rules"][0]["id"];
  first_file["rules"].erase(0);
  const std::string to =
      doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  absl::StatusOr<ruleset::RuleSetDiff> diff = ruleset::DiffRuleSets(from, to);
  ASSERT_THAT(diff, IsOk());
  EXPECT_THAT(diff->rules_removed, testing::ElementsAre(removed));
  EXPECT_THAT(diff->rules_added, IsEmpty());
  EXPECT_THAT(
      diff->changes,
      Contains(AllOf(Field(&ruleset::FieldChange::path, HasSubstr("pcs_high")),
                     Field(&ruleset::FieldChange::after, HasSubstr("32")))));
  EXPECT_THAT(diff->changes, Contains(Field(&ruleset::FieldChange::path,
                                            HasSubstr("version"))));

  absl::StatusOr<ruleset::RuleSetDiff> same = ruleset::DiffRuleSets(from, from);
  ASSERT_THAT(same, IsOk());
  EXPECT_TRUE(same->empty());
  EXPECT_THAT(ruleset::DiffRuleSets(from, "not json"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace reconnect::service
