#include "service/decision_support_service.h"

#include "service/log.h"
#include "service/status_mapping.h"

namespace reconnect::service {

grpc::ServerUnaryReactor* DecisionSupportService::Evaluate(
    grpc::CallbackServerContext* context, const v1::EvaluateRequest* request,
    v1::EvaluateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
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
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace reconnect::service
