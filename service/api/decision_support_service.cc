#include "service/api/decision_support_service.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/byte_buffer.h"
#include "service/api/status_mapping.h"
#include "service/common/log.h"
#include "service/decision/stored_record.h"

namespace reconnect::service {

namespace {

constexpr size_t kCallBlockBytes = 16 * 1024;

// The thread's first block for call arenas, and whether one holds it.
struct ThreadCallBlock {
  alignas(std::max_align_t) char bytes[kCallBlockBytes];
  bool held = false;
};
ThreadCallBlock& CallBlock() {
  thread_local ThreadCallBlock block;
  return block;
}

bool TakeCallBlock() {
  ThreadCallBlock& block = CallBlock();
  if (block.held) return false;
  block.held = true;
  return true;
}

}  // namespace

CallArena::CallArena()
    : thread_block_(TakeCallBlock()), arena_(Options(thread_block_)) {}

// The arena is destroyed right after this body, on this thread, before any
// other CallArena here can take the block.
CallArena::~CallArena() {
  if (thread_block_) CallBlock().held = false;
}

google::protobuf::ArenaOptions CallArena::Options(bool thread_block) {
  google::protobuf::ArenaOptions options;
  options.start_block_size = kCallBlockBytes;
  if (thread_block) {
    options.initial_block = CallBlock().bytes;
    options.initial_block_size = kCallBlockBytes;
  }
  return options;
}

namespace {

// `response` (without its recommendation) followed by `recommendation`, the
// serialised recommendation, as field `recommendation`: the bytes of the
// whole response, without serialising the recommendation again.
grpc::ByteBuffer WithRecommendation(const v1::EvaluateResponse& response,
                                    const std::string& recommendation) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    response.SerializeToCodedStream(&coded);
    google::protobuf::internal::WireFormatLite::WriteBytes(
        v1::EvaluateResponse::kRecommendationFieldNumber, recommendation,
        &coded);
  }
  // The slice takes the string over rather than copying it.
  auto* owned = new std::string(std::move(out));
  grpc::Slice slice(
      owned->data(), owned->size(),
      [](void* p) { delete static_cast<std::string*>(p); }, owned);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

// How a call ends, decided once: by its answer or error, or by the
// server's deadline, whichever comes first (the deadline timer and the audit
// store's completion run on threads of their own). Only the first touches
// the call, which is gone once it has finished; the others do nothing.
class DecisionSupportService::Ending {
 public:
  // `observer` (may be null) is told how the call ended.
  Ending(Call* call, CallSlot slot, DecisionObserver* observer)
      : call_(call),
        observer_(observer),
        arrived_(observer != nullptr ? absl::Now() : absl::InfinitePast()),
        slot_(std::move(slot)) {}

  // The server's deadline timer `id`, cancelled when the call ends first.
  void set_timer(CallLimits& limits, uint64_t id) {
    {
      absl::MutexLock lock(&mu_);
      if (!finished_) {
        limits_ = &limits;
        timer_ = id;
        return;
      }
    }
    limits.Cancel(id);
  }

  // Ends the call with `status`; with OK, the response goes out first.
  void Finish(const grpc::Status& status);

 private:
  Call* const call_;
  DecisionObserver* const observer_;
  const absl::Time arrived_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<CallSlot> slot_ ABSL_GUARDED_BY(mu_);
  CallLimits* limits_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t timer_ ABSL_GUARDED_BY(mu_) = 0;
};

// One Evaluate call, from the arrival of its headers to its end.
class DecisionSupportService::Call final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  Call(DecisionSupportService& service, grpc::CallbackServerContext* context)
      : service_(service), context_(*context) {
    CallLimits& limits = service_.limits_;
    std::optional<CallSlot> slot = limits.Admit("Evaluate");
    if (!slot) {
      Finish(ToGrpcStatus(Shed()));
      return;
    }
    ending_ = std::make_shared<Ending>(this, *std::move(slot),
                                       service_.engine_.observer());
    if (absl::Status s = service_.authorizer_.Authorize(
            context_, Role::kEvaluator, "Evaluate", &caller_);
        !s.ok()) {
      ending_->Finish(ToGrpcStatus(s));
      return;
    }
    StartRead(&request_);
    // gRPC holds the call to the client's deadline; a call with none (or one
    // beyond the maximum) is held to the server's, so that neither a caller
    // that never sends its message nor a stalled store can keep it, and its
    // slot, forever. Its record may still commit: a record without an
    // answer is allowed, an answer without one is not.
    if (limits.NeedsTimer(context_)) {
      ending_->set_timer(
          limits,
          limits.Schedule(limits.Deadline(context_), [ending = ending_] {
            ending->Finish(ToGrpcStatus(
                absl::DeadlineExceededError("the call took longer than the "
                                            "server's deadline for calls that "
                                            "set none")));
          }));
    }
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      ending_->Finish(context_.IsCancelled()
                          ? grpc::Status::CANCELLED
                          : ToGrpcStatus(absl::InvalidArgumentError(
                                "the call ended without its "
                                "reconnect.v1.EvaluateRequest message")));
      return;
    }
    Evaluate();
  }

  void OnDone() override { delete this; }

  // Called by Ending, once: the answer (with OK) or the error.
  void End(const grpc::Status& status) {
    if (status.ok()) {
      StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
    } else {
      Finish(status);
    }
  }

 private:
  void Evaluate();

  DecisionSupportService& service_;
  grpc::CallbackServerContext& context_;
  std::shared_ptr<Ending> ending_;
  std::string caller_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

void DecisionSupportService::Ending::Finish(const grpc::Status& status) {
  CallLimits* limits = nullptr;
  uint64_t timer = 0;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    limits = limits_;
    timer = timer_;
    slot_.reset();
  }
  // When the timer itself is finishing the call, it is already running and
  // cancelling it does nothing.
  if (limits != nullptr) limits->Cancel(timer);
  if (observer_ != nullptr) {
    observer_->CallEnded("grpc",
                         absl::StatusCodeToString(static_cast<absl::StatusCode>(
                             status.error_code())),
                         absl::Now() - arrived_);
  }
  call_->End(status);
}

DecisionSupportService::DecisionSupportService(const DecisionEngine& engine,
                                               Authorizer& authorizer,
                                               CallLimits& limits,
                                               AuditStore* audit)
    : engine_(engine), authorizer_(authorizer), limits_(limits), audit_(audit) {
  // A handler of bytes, as gRPC's own generated code registers one, but as a
  // bidirectional stream, which gRPC hands over when the headers arrive.
  AddMethod(new grpc::internal::RpcServiceMethod(
      kEvaluateMethod, grpc::internal::RpcMethod::BIDI_STREAMING, nullptr));
  MarkMethodRawCallback(
      0, new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer,
                                                 grpc::ByteBuffer>(
             [this](grpc::CallbackServerContext* context) {
               return new Call(*this, context);
             }));
}

void DecisionSupportService::Call::Evaluate() {
  // A recommendation is many small messages and strings; one arena for the
  // call's messages, freed in one step on return, costs far less than
  // allocating them one by one.
  CallArena call_arena;
  google::protobuf::Arena& arena = *call_arena.get();
  auto* request =
      google::protobuf::Arena::CreateMessage<v1::EvaluateRequest>(&arena);
  const bool parsed =
      grpc::SerializationTraits<v1::EvaluateRequest>::Deserialize(&request_,
                                                                  request)
          .ok();
  request_.Clear();
  if (!parsed) {
    Log(LogLevel::kWarning, "evaluate_failed",
        {{"code", "INVALID_ARGUMENT"}, {"reason", "unparsable request"}});
    ending_->Finish(ToGrpcStatus(absl::InvalidArgumentError(
        "the request is not a reconnect.v1.EvaluateRequest in protobuf "
        "binary form (malformed, truncated, or nested too deeply)")));
    return;
  }
  auto* response =
      google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(&arena);
  std::vector<FieldViolation> violations;
  const absl::Status result =
      service_.engine_.Evaluate(*request, *response, violations);
  if (!result.ok()) {
    // Field names only: violations never carry the submitted values.
    Log(LogLevel::kWarning, "evaluate_failed",
        {{"code", absl::StatusCodeToString(result.code())},
         {"violations", violations.size()}});
    ending_->Finish(ToGrpcStatus(result, violations));
    return;
  }
  // The recommendation's bytes go both into the record (deterministic, so
  // that its hash depends only on the message) and, as field
  // `recommendation`, into the response.
  std::string recommendation = DeterministicBytes(response->recommendation());
  RuleOutcomes outcomes;
  if (service_.audit_ != nullptr) {
    outcomes = OutcomesOf(response->recommendation());
  }
  response->clear_recommendation();
  response_ = WithRecommendation(*response, recommendation);
  if (service_.audit_ == nullptr) {
    ending_->Finish(grpc::Status::OK);
    return;
  }
  DecisionRecord record;
  record.decision_id = response->decision_id();
  record.time_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  record.calling_system = request->calling_system();
  // Empty when authorization is off.
  record.caller = std::move(caller_);
  record.rule_set_digest = response->rule_set().digest();
  record.assessment = StoredAssessment(
      request->assessment(), service_.patient_ref_key_, &record.patient_hmac);
  record.recommendation = std::move(recommendation);
  record.outcomes = std::move(outcomes);
  service_.audit_->Append(
      std::move(record), [ending = ending_](const absl::Status& s) {
        if (s.ok()) {
          ending->Finish(grpc::Status::OK);
          return;
        }
        Log(LogLevel::kError, "audit_write_failed",
            {{"code", absl::StatusCodeToString(s.code())},
             {"reason", std::string(s.message())}});
        ending->Finish(ToGrpcStatus(absl::UnavailableError(
            "the decision could not be recorded in the audit trail, so it was "
            "not returned; retry later")));
      });
}

grpc::ServerUnaryReactor* HealthListenerDecisionSupport::Evaluate(
    grpc::CallbackServerContext* context, const v1::EvaluateRequest*,
    v1::EvaluateResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(absl::UnimplementedError(
      "this listener serves only grpc.health.v1.Health; call the main one")));
  return reactor;
}

}  // namespace reconnect::service
