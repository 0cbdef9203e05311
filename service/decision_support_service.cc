#include "service/decision_support_service.h"

#include <chrono>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "service/log.h"
#include "service/status_mapping.h"

namespace reconnect::service {

namespace {

// Deterministic binary, so that a record's bytes (and so its hash) depend
// only on the message.
std::string Serialize(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

grpc::ServerUnaryReactor* DecisionSupportService::Evaluate(
    grpc::CallbackServerContext* context, const v1::EvaluateRequest* request,
    v1::EvaluateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (empty_handler_) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  std::string caller;
  if (grpc::Status s = authorizer_.Authorize(*context, Role::kEvaluator,
                                             "Evaluate", &caller);
      !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  std::vector<FieldViolation> violations;
  const absl::Status result = engine_.Evaluate(*request, *response, violations);
  if (!result.ok()) {
    // Field names only: violations never carry the submitted values.
    Log(LogLevel::kWarning, "evaluate_failed",
        {{"code", absl::StatusCodeToString(result.code())},
         {"violations", violations.size()}});
    reactor->Finish(ToGrpcStatus(result, violations));
    return reactor;
  }
  if (audit_ == nullptr) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  DecisionRecord record;
  record.decision_id = response->decision_id();
  record.time_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  record.calling_system = request->calling_system();
  // Empty when authorization is off.
  record.caller = std::move(caller);
  record.rule_set_digest = response->rule_set().digest();
  record.assessment = Serialize(request->assessment());
  record.recommendation = Serialize(response->recommendation());
  audit_->Append(std::move(record), [reactor](const absl::Status& s) {
    if (s.ok()) {
      reactor->Finish(grpc::Status::OK);
      return;
    }
    Log(LogLevel::kError, "audit_write_failed",
        {{"code", absl::StatusCodeToString(s.code())},
         {"reason", std::string(s.message())}});
    reactor->Finish(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        "the decision could not be recorded in the audit trail, so it was "
        "not returned; retry later"));
  });
  return reactor;
}

}  // namespace reconnect::service
