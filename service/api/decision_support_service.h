#ifndef RECONNECT_SERVICE_API_DECISION_SUPPORT_SERVICE_H_
#define RECONNECT_SERVICE_API_DECISION_SUPPORT_SERVICE_H_

#include "google/protobuf/arena.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "service/audit/audit_store.h"
#include "service/decision/decision_engine.h"
#include "service/security/auth.h"
#include "service/security/call_limits.h"

namespace reconnect::service {

// The arena each Evaluate call builds its request and response on. Its first
// block, large enough for a typical call, is the thread's own and is reused
// from call to call, so that a typical call's arena costs no malloc and no
// free; while another CallArena on the same thread holds that block, the
// first block is the heap's.
class CallArena {
 public:
  CallArena();
  ~CallArena();
  CallArena(const CallArena&) = delete;
  CallArena& operator=(const CallArena&) = delete;

  google::protobuf::Arena* get() { return &arena_; }

 private:
  static google::protobuf::ArenaOptions Options(bool thread_block);

  const bool thread_block_;  // whether this arena holds the thread's block
  google::protobuf::Arena arena_;
};

// The DecisionSupport gRPC service (callback API). Evaluation takes
// microseconds and never blocks, so it runs on the gRPC thread that received
// the request. With an audit store, the answer goes out only once its record
// is committed: the handler queues the record and returns, and the store's
// writer thread finishes the call (no gRPC thread waits on the disk).
//
// A call is taken in as its headers arrive, not when its message does: it is
// counted against `max_concurrent_calls` (or shed), authorized, and held to
// its deadline from that moment, so a caller that opens calls and never sends
// their messages holds at most its share of slots, each until its deadline,
// and no memory beyond them. gRPC hands a unary method to the service only
// once its message is in, so Evaluate is registered as a bidirectional
// stream of bytes, which gRPC hands over at the headers; on the wire that is
// the same HTTP/2 exchange as a unary call, and unary clients call it
// unchanged. The call reads one message and answers one.
//
// The handler parses the request itself (so that a malformed one gets
// INVALID_ARGUMENT naming what was expected), builds the response on an
// arena, and serialises the recommendation once, for both the audit record
// and the wire, while it is still in this thread's cache. What waits for the
// commit is bytes, not the arena.
class DecisionSupportService final : public grpc::Service {
 public:
  // The method Evaluate is served under.
  static constexpr char kEvaluateMethod[] =
      "/reconnect.v1.DecisionSupport/Evaluate";

  // `engine`, `authorizer`, `limits` and `audit` (null: decisions are not
  // recorded) must outlive the service. Callers need the evaluator role.
  DecisionSupportService(const DecisionEngine& engine, Authorizer& authorizer,
                         CallLimits& limits, AuditStore* audit);

  // The key patient references are stored under (as HMAC-SHA256); without
  // one they are not stored at all.
  void SetPatientRefKey(std::string key) { patient_ref_key_ = std::move(key); }

 private:
  class Call;
  class Ending;

  const DecisionEngine& engine_;
  Authorizer& authorizer_;
  CallLimits& limits_;
  AuditStore* const audit_;
  std::string patient_ref_key_;
};

// For benchmarks only (`serve --empty_handler_for_benchmark`): Evaluate
// answers an empty response at once, so that the cost of gRPC alone can be
// measured by the same binary. A plain typed handler, as gRPC gives it.
class EmptyDecisionSupportService final
    : public v1::DecisionSupport::CallbackService {
 public:
  grpc::ServerUnaryReactor* Evaluate(grpc::CallbackServerContext* context,
                                     const v1::EvaluateRequest*,
                                     v1::EvaluateResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// DecisionSupport on the plaintext health-only listener, complete as it is:
// it refuses every call with a status that names the listener to use
// instead. A gRPC server needs a service of its own beside the default
// health service, and this one keeps callers from learning anything else.
class HealthListenerDecisionSupport final
    : public v1::DecisionSupport::CallbackService {
 public:
  grpc::ServerUnaryReactor* Evaluate(grpc::CallbackServerContext* context,
                                     const v1::EvaluateRequest*,
                                     v1::EvaluateResponse*) override;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_API_DECISION_SUPPORT_SERVICE_H_
