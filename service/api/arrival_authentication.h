#ifndef RECONNECT_SERVICE_API_ARRIVAL_AUTHENTICATION_H_
#define RECONNECT_SERVICE_API_ARRIVAL_AUTHENTICATION_H_

#include "grpcpp/security/auth_metadata_processor.h"
#include "service/security/auth.h"

namespace reconnect::service {

// Authenticates every call on a TLS listener as its headers arrive, before
// its message: a call without usable credentials is refused with
// UNAUTHENTICATED at once (and logged), instead of holding the server's
// memory while it waits for a message that may never come. The handlers
// then check roles as before.
class ArrivalAuthentication final : public grpc::AuthMetadataProcessor {
 public:
  // `authorizer` must outlive the server.
  explicit ArrivalAuthentication(Authorizer& authorizer)
      : authorizer_(authorizer) {}

  // Fast enough to run on the transport's thread: a token is verified once
  // and then found in the authorizer's cache.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  Authorizer& authorizer_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_API_ARRIVAL_AUTHENTICATION_H_
