#ifndef RECONNECT_SERVICE_API_INTERNAL_GOVERNANCE_MESSAGES_H_
#define RECONNECT_SERVICE_API_INTERNAL_GOVERNANCE_MESSAGES_H_

// The Governance service's requests checked and its responses filled: page
// sizes and tokens, time ranges, rule-set summaries and decisions.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/support/status.h"
#include "reconnect/v1/governance.pb.h"
#include "service/audit/audit_store.h"
#include "service/decision/request_validator.h"

namespace reconnect::service::governance_internal {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// DEADLINE_EXCEEDED for work whose call's deadline passed before it ran.
absl::Status DeadlineExceeded();

// INVALID_ARGUMENT naming every violation (google.rpc.BadRequest details).
grpc::Status Invalid(std::vector<FieldViolation> violations);

// The page size asked for (0: the default), checked.
int PageSize(int asked, std::vector<FieldViolation>& violations);

// Page tokens are the position after which the next page starts, as a
// decimal number; anything else is refused.
int64_t PageToken(const std::string& token,
                  std::vector<FieldViolation>& violations);

// A timestamp as microseconds, checked to lie in 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
int64_t Micros(const google::protobuf::Timestamp& t, const std::string& field,
               std::vector<FieldViolation>& violations);

// The request's [start_time, end_time) into `query`.
template <typename Request>
void ReadTimeRange(const Request& request, DecisionQuery& query,
                   std::vector<FieldViolation>& violations) {
  if (request.has_start_time()) {
    query.start_micros = Micros(request.start_time(), "start_time", violations);
  }
  if (request.has_end_time()) {
    query.end_micros = Micros(request.end_time(), "end_time", violations);
  }
  if (query.start_micros != 0 && query.end_micros != 0 &&
      query.end_micros <= query.start_micros) {
    violations.push_back({"end_time", "must be after start_time"});
  }
}

void FillSummary(const ruleset::CompiledRuleSet& rs, bool active,
                 v1::RuleSetSummary& out);

// DATA_LOSS when `with_content` and the recorded messages do not parse.
absl::Status FillDecision(const DecisionRecord& r, bool with_content,
                          v1::Decision& out);

void FillFeedback(const FeedbackRecord& r, v1::Feedback& out);

}  // namespace reconnect::service::governance_internal

#endif  // RECONNECT_SERVICE_API_INTERNAL_GOVERNANCE_MESSAGES_H_
