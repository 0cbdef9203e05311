#include "service/api/decision_support_service.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/byte_buffer.h"
#include "openssl/evp.h"
#include "openssl/hmac.h"
#include "service/api/status_mapping.h"
#include "service/common/log.h"

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

google::protobuf::ArenaOptions ArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 16 * 1024;
  return options;
}

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

std::string PatientRefHmac(const std::string& key, const std::string& ref) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(ref.data()), ref.size(), mac,
       &len);
  return absl::StrCat("hmac-sha256:",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(mac), len)));
}

std::string DecisionSupportService::StoredAssessment(
    const v1::Assessment& assessment) const {
  if (assessment.patient_ref().empty()) return Serialize(assessment);
  // The patient reference is stored only as a keyed HMAC: the same patient
  // links across decisions for whoever holds the key, and for no one else.
  v1::Assessment stored = assessment;
  stored.set_patient_ref(
      patient_ref_key_.empty()
          ? std::string()
          : PatientRefHmac(patient_ref_key_, assessment.patient_ref()));
  return Serialize(stored);
}

// A call waiting for its audit record, which either the store's completion
// or the server's deadline finishes, whichever comes first; the other then
// does nothing (the reactor is gone once the call is finished).
class DecisionSupportService::PendingCall {
 public:
  PendingCall(grpc::ServerUnaryReactor* reactor, CallSlot slot)
      : reactor_(reactor), slot_(std::move(slot)) {}

  void set_timer(CallLimits& limits, uint64_t id) {
    limits_ = &limits;
    timer_ = id;
  }

  // `from_timer`: the server's deadline fired (its timer needs no
  // cancelling, and set_timer may not have returned yet).
  void Finish(const grpc::Status& status, bool from_timer = false) {
    if (finished_.exchange(true)) return;
    if (!from_timer && limits_ != nullptr) limits_->Cancel(timer_);
    slot_.reset();
    reactor_->Finish(status);
  }

 private:
  grpc::ServerUnaryReactor* const reactor_;
  std::optional<CallSlot> slot_;
  CallLimits* limits_ = nullptr;
  uint64_t timer_ = 0;
  std::atomic<bool> finished_{false};
};

grpc::ServerUnaryReactor* DecisionSupportService::Evaluate(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<CallSlot> slot = limits_.Admit("Evaluate");
  if (!slot) {
    reactor->Finish(ToGrpcStatus(Shed()));
    return reactor;
  }
  std::string caller;
  if (absl::Status s = authorizer_.Authorize(*context, Role::kEvaluator,
                                             "Evaluate", &caller);
      !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  // A recommendation is many small messages and strings; one arena for the
  // call's messages, freed in one step on return, costs far less than
  // allocating them one by one.
  google::protobuf::Arena arena(ArenaOptions());
  auto* request =
      google::protobuf::Arena::CreateMessage<v1::EvaluateRequest>(&arena);
  grpc::ByteBuffer input(*request_bytes);  // shares the received slices
  if (!grpc::SerializationTraits<v1::EvaluateRequest>::Deserialize(&input,
                                                                   request)
           .ok()) {
    Log(LogLevel::kWarning, "evaluate_failed",
        {{"code", "INVALID_ARGUMENT"}, {"reason", "unparsable request"}});
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(
        "the request is not a reconnect.v1.EvaluateRequest in protobuf "
        "binary form (malformed, truncated, or nested too deeply)")));
    return reactor;
  }
  auto* response =
      google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(&arena);
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
  // The recommendation's bytes go both into the record (deterministic, so
  // that its hash depends only on the message) and, as field
  // `recommendation`, into the response.
  std::string recommendation = Serialize(response->recommendation());
  response->clear_recommendation();
  *response_bytes = WithRecommendation(*response, recommendation);
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
  record.assessment = StoredAssessment(request->assessment());
  record.recommendation = std::move(recommendation);
  auto call = std::make_shared<PendingCall>(reactor, *std::move(slot));
  // gRPC holds the call to the client's deadline; a call with none (or one
  // beyond the maximum) is held to the server's, so that a stalled store
  // cannot keep it, and its slot, forever. Its record may still commit: a
  // record without an answer is allowed, an answer without one is not.
  if (limits_.NeedsTimer(*context)) {
    call->set_timer(limits_,
                    limits_.Schedule(limits_.Deadline(*context), [call] {
                      call->Finish(ToGrpcStatus(absl::DeadlineExceededError(
                                       "the call took longer than the server's "
                                       "deadline for calls that set none")),
                                   /*from_timer=*/true);
                    }));
  }
  audit_->Append(std::move(record), [call](const absl::Status& s) {
    if (s.ok()) {
      call->Finish(grpc::Status::OK);
      return;
    }
    Log(LogLevel::kError, "audit_write_failed",
        {{"code", absl::StatusCodeToString(s.code())},
         {"reason", std::string(s.message())}});
    call->Finish(ToGrpcStatus(absl::UnavailableError(
        "the decision could not be recorded in the audit trail, so it was "
        "not returned; retry later")));
  });
  return reactor;
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
