#include "service/audit/internal/packing.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconnect/v1/recommendation.pb.h"
#include "tests/testing/bundled_rule_set.h"
#include "tests/testing/examples.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service::audit_internal {
namespace {

using ::reconnect::testing_util::BundledRuleSet;
using ::reconnect::testing_util::ExampleNames;
using ::reconnect::testing_util::ExampleRequest;
using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::HasSubstr;

// Each example's decision as a store receives it.
std::vector<DecisionRecord> Decisions() {
  std::vector<DecisionRecord> out;
  int i = 0;
  for (const std::string& name : ExampleNames()) {
    DecisionRecord r;
    r.sequence = ++i;
    r.decision_id = name;
    r.rule_set_digest = BundledRuleSet().digest();
    const v1::EvaluateRequest request = ExampleRequest(name, "test");
    v1::Recommendation plan;
    BundledRuleSet().Evaluate(request.assessment(), plan);
    r.assessment = request.assessment().SerializeAsString();
    r.recommendation = plan.SerializeAsString();
    out.push_back(std::move(r));
  }
  return out;
}

// A content source that holds nothing: every dictionary must be added.
absl::StatusOr<std::string> NoContent(const std::string& digest) {
  return absl::NotFoundError(digest);
}

DecisionRecord Stored(const DecisionRecord& r, const PackedContent& packed) {
  DecisionRecord stored = r;
  stored.packing = packed.packing;
  stored.assessment = packed.assessment;
  stored.recommendation = packed.recommendation;
  return stored;
}

TEST(PackingTest, EveryExampleUnpacksToTheBytesReturned) {
  PackingDictionaries dictionaries;
  dictionaries.Add(BundledRuleSet().digest(),
                   BundledRuleSet().canonical_content());
  size_t returned = 0, held = 0;
  for (const DecisionRecord& r : Decisions()) {
    const PackedContent packed = Pack(dictionaries, r);
    EXPECT_EQ(packed.packing, kPackedWithRuleSet);
    EXPECT_LT(packed.recommendation.size(), r.recommendation.size() / 2)
        << r.decision_id;
    returned += r.assessment.size() + r.recommendation.size();
    held += packed.assessment.size() + packed.recommendation.size();
    // A reader that has not met the rule set yet adds it from the store.
    PackingDictionaries reader;
    int asked = 0;
    DecisionRecord stored = Stored(r, packed);
    ASSERT_THAT(
        Unpack(
            reader,
            [&](const std::string& digest) -> absl::StatusOr<std::string> {
              ++asked;
              EXPECT_EQ(digest, BundledRuleSet().digest());
              return BundledRuleSet().canonical_content();
            },
            stored),
        IsOk());
    EXPECT_EQ(asked, 1);
    EXPECT_EQ(stored.packing, kPackedAsIs);
    EXPECT_EQ(stored.assessment, r.assessment) << r.decision_id;
    EXPECT_EQ(stored.recommendation, r.recommendation) << r.decision_id;
  }
  // The rule set as dictionary leaves a fraction of what was returned.
  EXPECT_LT(held * 4, returned) << held << " of " << returned;
}

TEST(PackingTest, ARuleSetNotRecordedPacksAlone) {
  PackingDictionaries none;
  const DecisionRecord r = Decisions().front();
  const PackedContent packed = Pack(none, r);
  EXPECT_EQ(packed.packing, kPackedAlone);
  DecisionRecord stored = Stored(r, packed);
  ASSERT_THAT(Unpack(none, NoContent, stored), IsOk());
  EXPECT_EQ(stored.recommendation, r.recommendation);
  EXPECT_EQ(stored.assessment, r.assessment);
}

TEST(PackingTest, RowsHeldAsIsAreLeftAsTheyAre) {
  PackingDictionaries none;
  DecisionRecord r = Decisions().front();
  const std::string recommendation = r.recommendation;
  ASSERT_THAT(Unpack(none, NoContent, r), IsOk());
  EXPECT_EQ(r.recommendation, recommendation);
}

class PackingErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dictionaries_.Add(BundledRuleSet().digest(),
                      BundledRuleSet().canonical_content());
    original_ = Decisions()[2];
    stored_ = Stored(original_, Pack(dictionaries_, original_));
  }

  // DATA_LOSS whose message holds `what`.
  void ExpectRefused(const std::string& what) {
    absl::Status s = Unpack(dictionaries_, NoContent, stored_);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(std::string(s.message()), HasSubstr(what));
  }

  PackingDictionaries dictionaries_;
  DecisionRecord original_;
  DecisionRecord stored_;
};

TEST_F(PackingErrorTest, AnAlteredByteIsFoundByTheFramesChecksum) {
  for (size_t at : {size_t{20}, stored_.recommendation.size() / 2,
                    stored_.recommendation.size() - 1}) {
    SetUp();
    stored_.recommendation[at] ^= 0x01;
    ExpectRefused(
        "record 3 was altered: the stored recommendation of decision");
  }
}

TEST_F(PackingErrorTest, CutShortOrNotAFrame) {
  stored_.assessment.resize(stored_.assessment.size() - 3);
  ExpectRefused("the stored assessment");
  SetUp();
  stored_.recommendation = std::string(1, 'x');
  ExpectRefused("it is not a whole zstd frame");
}

TEST_F(PackingErrorTest, AnotherRuleSetsDictionaryDoesNotUnpack) {
  PackingDictionaries other;
  other.Add(BundledRuleSet().digest(), "{\"another\": \"rule set\"}");
  absl::Status s = Unpack(other, NoContent, stored_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(PackingErrorTest, ARuleSetTheStoreDoesNotHold) {
  PackingDictionaries reader;
  absl::Status s = Unpack(reader, NoContent, stored_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("is packed with rule set ",
                                     BundledRuleSet().digest(),
                                     ", which the store does not hold")));
  // Any other failure to read the rule set is passed on as it is.
  s = Unpack(
      reader,
      [](const std::string&) -> absl::StatusOr<std::string> {
        return absl::UnavailableError("the store is down");
      },
      stored_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(PackingErrorTest, AnUnknownPacking) {
  stored_.packing = 7;
  ExpectRefused("has packing 7, which this reconnect does not know");
}

TEST_F(PackingErrorTest, AFrameClaimingMoreThanAnyRecordHolds) {
  PackingDictionaries none;
  DecisionRecord huge;
  huge.recommendation.assign(size_t{65} << 20, '\0');
  const PackedContent packed = Pack(none, huge);
  stored_.packing = kPackedAlone;
  stored_.recommendation = packed.recommendation;
  ExpectRefused("it claims 68157440 bytes");
}

}  // namespace
}  // namespace reconnect::service::audit_internal
