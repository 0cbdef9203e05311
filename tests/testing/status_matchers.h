#ifndef RECONNECT_TESTS_TESTING_STATUS_MATCHERS_H_
#define RECONNECT_TESTS_TESTING_STATUS_MATCHERS_H_

// Matchers for absl::Status, absl::StatusOr<T>, grpc::Status and
// protobuf's util::Status:
//
//   EXPECT_THAT(store.Append(r), IsOk());
//   EXPECT_THAT(reader->GetDecision("x"),
//               StatusIs(absl::StatusCode::kNotFound, HasSubstr("x")));
//   EXPECT_THAT(stub->Evaluate(&ctx, request, &response),
//               StatusIs(grpc::StatusCode::INVALID_ARGUMENT));

#include <ostream>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/status.h"
#include "grpcpp/support/status.h"

namespace reconnect::testing_util {

namespace status_internal {

inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
// Protocol Buffers' own status (from its JSON mapping) uses the same codes.
inline absl::Status ToStatus(const google::protobuf::util::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.code()),
                      std::string(s.message().data(), s.message().size()));
}
// gRPC's codes are Abseil's, by design.
inline absl::Status ToStatus(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

template <typename StatusLike>
class StatusIsMatcher : public ::testing::MatcherInterface<StatusLike> {
 public:
  StatusIsMatcher(absl::StatusCode code,
                  ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  bool MatchAndExplain(
      StatusLike actual,
      ::testing::MatchResultListener* listener) const override {
    const absl::Status status = ToStatus(actual);
    if (status.code() != code_) {
      *listener << "whose code is " << absl::StatusCodeToString(status.code())
                << " (message: \"" << status.message() << "\")";
      return false;
    }
    const std::string message(status.message());
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(message, &inner)) {
      *listener << "whose message \"" << message << "\" does not match";
      if (!inner.str().empty()) *listener << ", " << inner.str();
      return false;
    }
    return true;
  }

  void DescribeTo(std::ostream* os) const override {
    *os << "has code " << absl::StatusCodeToString(code_)
        << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not have code " << absl::StatusCodeToString(code_)
        << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  const absl::StatusCode code_;
  const ::testing::Matcher<const std::string&> message_;
};

class StatusIsPolymorphic {
 public:
  StatusIsPolymorphic(absl::StatusCode code,
                      ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename StatusLike>
  operator ::testing::Matcher<StatusLike>() const {  // NOLINT
    return ::testing::Matcher<StatusLike>(
        new StatusIsMatcher<StatusLike>(code_, message_));
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace status_internal

// The status (of an absl::Status, absl::StatusOr or grpc::Status) has
// `code`, and its message matches `message` (anything, by default).
inline status_internal::StatusIsPolymorphic StatusIs(
    absl::StatusCode code,
    ::testing::Matcher<const std::string&> message = ::testing::_) {
  return status_internal::StatusIsPolymorphic(code, std::move(message));
}
inline status_internal::StatusIsPolymorphic StatusIs(
    grpc::StatusCode code,
    ::testing::Matcher<const std::string&> message = ::testing::_) {
  return StatusIs(static_cast<absl::StatusCode>(code), std::move(message));
}

// The status is OK.
inline status_internal::StatusIsPolymorphic IsOk() {
  return StatusIs(absl::StatusCode::kOk);
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_STATUS_MATCHERS_H_
