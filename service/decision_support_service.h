#ifndef RECONNECT_SERVICE_DECISION_SUPPORT_SERVICE_H_
#define RECONNECT_SERVICE_DECISION_SUPPORT_SERVICE_H_

#include "reconnect/v1/decision_support.grpc.pb.h"
#include "service/arena_message_allocator.h"
#include "service/decision_engine.h"

namespace reconnect::service {

// The DecisionSupport gRPC service (callback API). Evaluation takes
// microseconds and never blocks, so it runs on the gRPC thread that received
// the call; the handler only delegates to the DecisionEngine.
class DecisionSupportService final
    : public v1::DecisionSupport::CallbackService {
 public:
  // `engine` must outlive the service.
  explicit DecisionSupportService(const DecisionEngine& engine)
      : engine_(engine) {
    SetMessageAllocatorFor_Evaluate(&allocator_);
  }

  grpc::ServerUnaryReactor* Evaluate(grpc::CallbackServerContext* context,
                                     const v1::EvaluateRequest* request,
                                     v1::EvaluateResponse* response) override;

 private:
  const DecisionEngine& engine_;
  ArenaMessageAllocator<v1::EvaluateRequest, v1::EvaluateResponse> allocator_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_DECISION_SUPPORT_SERVICE_H_
