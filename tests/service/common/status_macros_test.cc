#include "service/common/status_macros.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<std::unique_ptr<int>> MakeInt(bool ok, int value) {
  if (!ok) return absl::NotFoundError("no int here");
  return std::make_unique<int>(value);
}

// Doubles what MakeInt gives (a move-only value), passing its error on.
absl::StatusOr<int> Doubled(bool ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> v, MakeInt(ok, 21));
  return *v * 2;
}

// Two in one scope, one of them into an existing variable.
absl::Status Both(bool first, bool second, int& sum) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> a, MakeInt(first, 1));
  std::unique_ptr<int> b;
  ASSIGN_OR_RETURN(b, MakeInt(second, 2));
  sum = *a + *b;
  return absl::OkStatus();
}

absl::Status Checked(const absl::Status& inner, int& reached) {
  RETURN_IF_ERROR(inner);
  ++reached;
  RETURN_IF_ERROR(MakeInt(true, 1));  // a StatusOr's status
  ++reached;
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnMovesTheValueOrReturnsTheError) {
  EXPECT_THAT(Doubled(true), IsOk());
  EXPECT_EQ(*Doubled(true), 42);
  EXPECT_THAT(Doubled(false),
              StatusIs(absl::StatusCode::kNotFound, "no int here"));
  int sum = 0;
  EXPECT_THAT(Both(true, true, sum), IsOk());
  EXPECT_EQ(sum, 3);
  sum = 0;
  EXPECT_THAT(Both(true, false, sum), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(sum, 0);
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtTheFirstError) {
  int reached = 0;
  EXPECT_THAT(Checked(absl::OkStatus(), reached), IsOk());
  EXPECT_EQ(reached, 2);
  reached = 0;
  EXPECT_THAT(Checked(absl::DataLossError("torn"), reached),
              StatusIs(absl::StatusCode::kDataLoss, "torn"));
  EXPECT_EQ(reached, 0);
}

TEST(StatusIsTest, MatchesCodeAndMessageOfEveryKindOfStatus) {
  EXPECT_THAT(absl::InvalidArgumentError("field x is bad"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("x")));
  EXPECT_THAT(absl::InvalidArgumentError("field x is bad"),
              Not(StatusIs(absl::StatusCode::kNotFound)));
  EXPECT_THAT(
      absl::InvalidArgumentError("field x is bad"),
      Not(StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("y"))));
  EXPECT_THAT(grpc::Status(grpc::StatusCode::UNAVAILABLE, "later"),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "later"));
  EXPECT_THAT(grpc::Status::OK, IsOk());
  EXPECT_THAT(absl::StatusOr<int>(3), IsOk());
  EXPECT_THAT(absl::StatusOr<int>(absl::CancelledError()), Not(IsOk()));
}

TEST(StatusIsTest, ExplainsAMismatch) {
  ::testing::Matcher<absl::Status> m =
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("decision"));
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(m.MatchAndExplain(absl::DataLossError("torn page"), &listener));
  EXPECT_THAT(listener.str(), HasSubstr("DATA_LOSS"));
  EXPECT_THAT(listener.str(), HasSubstr("torn page"));
}

}  // namespace
}  // namespace reconnect::service
