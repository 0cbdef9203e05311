#include "service/decision/request_validator.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"
#include "service/api/status_mapping.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;

using testing::ElementsAre;
using testing::Field;
using testing::IsEmpty;

std::vector<FieldViolation> Validate(const v1::Assessment& a) {
  EvaluateRequestValidator validator(v1::Assessment::descriptor());
  std::vector<FieldViolation> out;
  validator.Validate(a, "assessment", out);
  return out;
}

v1::Assessment FromJson(const std::string& json) {
  v1::Assessment a;
  EXPECT_THAT(google::protobuf::util::JsonStringToMessage(json, &a), IsOk())
      << json;
  return a;
}

auto Violation(const std::string& field, const std::string& description) {
  return testing::AllOf(Field(&FieldViolation::field, field),
                        Field(&FieldViolation::description, description));
}

TEST(RequestValidatorTest, AcceptsInRangeScoresIncludingTheBounds) {
  EXPECT_THAT(
      Validate(FromJson(
          R"({"scores": {"pcsTotal": 0, "tsk17Total": 68, "fsfiTotal": 2.0}})")),
      IsEmpty());
}

TEST(RequestValidatorTest, ReportsEveryOutOfRangeScore) {
  EXPECT_THAT(
      Validate(FromJson(
          R"({"scores": {"pcsTotal": 53, "tsk17Total": 16, "fsfiTotal": 36.5},
                                   "pain": {"averageNrs": -1}})")),
      ElementsAre(
          Violation("assessment.scores.pcs_total", "must be between 0 and 52"),
          Violation("assessment.scores.tsk17_total",
                    "must be between 17 and 68"),
          Violation("assessment.scores.fsfi_total", "must be between 2 and 36"),
          Violation("assessment.pain.average_nrs",
                    "must be between 0 and 10")));
}

TEST(RequestValidatorTest, ListLengthsAndStringLengths) {
  v1::Assessment a;
  for (int i = 0; i < 17; ++i) a.add_red_flags(v1::RED_FLAG_NEW_MASS);
  a.add_beliefs()->set_patient_words(std::string(2001, 'x'));
  a.set_patient_ref(std::string(129, 'p'));
  EXPECT_THAT(
      Validate(a),
      ElementsAre(Violation("assessment.patient_ref",
                            "is 129 bytes long; at most 128 are allowed"),
                  Violation("assessment.beliefs[0].patient_words",
                            "is 2001 bytes long; at most 2000 are allowed"),
                  Violation("assessment.red_flags",
                            "has 17 items; at most 16 are allowed")));
}

TEST(RequestValidatorTest, UnknownEnumNumbersAreRejected) {
  v1::Assessment a;
  a.set_activity_pattern(static_cast<v1::ActivityPattern>(42));
  a.add_red_flags(static_cast<v1::RedFlag>(99));
  EXPECT_THAT(Validate(a),
              ElementsAre(Violation("assessment.activity_pattern",
                                    "unknown ActivityPattern value 42"),
                          Violation("assessment.red_flags[0]",
                                    "unknown RedFlag value 99")));
}

TEST(StatusMappingTest, InvalidArgumentCarriesBadRequestDetails) {
  const grpc::Status s = ToGrpcStatus(
      absl::InvalidArgumentError("the request has 1 invalid field(s)"),
      {{"assessment.scores.pcs_total", "must be between 0 and 52"}});
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(s.error_message(), "the request has 1 invalid field(s)");
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(s.error_details()));
  ASSERT_EQ(rich.details_size(), 1);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(rich.details(0).UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "assessment.scores.pcs_total");
}

TEST(StatusMappingTest, CodesMapOneToOne) {
  EXPECT_THAT(ToGrpcStatus(absl::OkStatus()), StatusIs(grpc::StatusCode::OK));
  EXPECT_THAT(ToGrpcStatus(absl::NotFoundError("x")),
              StatusIs(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(ToGrpcStatus(absl::UnavailableError("x")),
              StatusIs(grpc::StatusCode::UNAVAILABLE));
  EXPECT_TRUE(ToGrpcStatus(absl::InternalError("x")).error_details().empty());
}

// NaN compares false with every bound, so a range alone lets it through:
// every floating-point field refuses it, in JSON or binary, with or without
// limits.
TEST(RequestValidatorTest, RefusesNaNAndInfinityEverywhere) {
  EXPECT_THAT(Validate(FromJson(R"({"scores": {"fsfiTotal": "NaN"}})")),
              ElementsAre(Violation("assessment.scores.fsfi_total",
                                    "is not a number (NaN)")));
  EXPECT_THAT(Validate(FromJson(R"({"scores": {"fsfiTotal": "-Infinity"}})")),
              ElementsAre(Violation("assessment.scores.fsfi_total",
                                    "must be a finite number")));
  v1::Assessment binary;
  binary.mutable_scores()->set_fsfi_total(std::nan(""));
  v1::Assessment parsed;
  ASSERT_TRUE(parsed.ParseFromString(binary.SerializeAsString()));
  EXPECT_THAT(Validate(parsed),
              ElementsAre(Violation("assessment.scores.fsfi_total",
                                    "is not a number (NaN)")));
  // A number inside an extension value: no limits name it, yet it is
  // refused.
  v1::Assessment ext;
  (*ext.mutable_extensions())["site_score"].set_number_value(std::nan(""));
  EXPECT_THAT(Validate(ext),
              ElementsAre(Violation("assessment.extensions[0]",
                                    "holds a number that is not finite")));
}

TEST(RequestValidatorTest, TimestampsMustBeValidAsProtobufDefinesThem) {
  auto with = [](int64_t seconds, int32_t nanos) {
    v1::Assessment a;
    a.mutable_assessed_at()->set_seconds(seconds);
    a.mutable_assessed_at()->set_nanos(nanos);
    return Validate(a);
  };
  EXPECT_THAT(with(1'790'000'000, 5), IsEmpty());
  EXPECT_THAT(with(253402300799, 999'999'999), IsEmpty());
  EXPECT_THAT(with(-62135596800, 0), IsEmpty());
  for (auto [seconds, nanos] :
       {std::pair<int64_t, int32_t>{1'000'000'000'000'000, 0},
        {-62135596801, 0},
        {1'790'000'000, -1},
        {1'790'000'000, 2'000'000'000}}) {
    EXPECT_THAT(
        with(seconds, nanos),
        ElementsAre(Field(&FieldViolation::field, "assessment.assessed_at")))
        << seconds << "s " << nanos << "ns";
  }
}

TEST(RequestValidatorTest, ExtensionKeysAndValuesHaveLimits) {
  v1::Assessment a;
  (*a.mutable_extensions())[std::string(65, 'k')].set_string_value("v");
  (*a.mutable_extensions())["fine"].set_string_value(std::string(5000, 'v'));
  (*a.mutable_extensions())["ok"].set_number_value(3);
  const auto out = Validate(a);
  // Map order is unspecified: the entries are named by position.
  EXPECT_THAT(out, testing::UnorderedElementsAre(
                       Field(&FieldViolation::description,
                             "has a key 65 bytes long; at most 64 are allowed"),
                       Field(&FieldViolation::description,
                             testing::MatchesRegex(
                                 "has a value of [0-9]+ bytes; at most 4096 "
                                 "are allowed"))));
  for (const auto& v : out) {
    EXPECT_THAT(v.field,
                testing::MatchesRegex(R"(assessment\.extensions\[[0-9]\])"));
    EXPECT_THAT(v.description, testing::Not(testing::HasSubstr("kkk")))
        << "a key is data: never echoed";
  }
}

}  // namespace
}  // namespace reconnect::service
