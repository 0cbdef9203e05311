#include "service/api/arrival_authentication.h"

#include <string>

#include "service/api/status_mapping.h"

namespace reconnect::service {

grpc::Status ArrivalAuthentication::Process(const InputMetadata& auth_metadata,
                                            grpc::AuthContext* context,
                                            OutputMetadata*, OutputMetadata*) {
  auto it = auth_metadata.find("authorization");
  std::string authorization;
  if (it != auth_metadata.end()) {
    authorization.assign(it->second.data(), it->second.size());
  }
  // The header stays for the handler, which reads the caller's identity
  // from it again (from the cache) when it checks the role. The caller is
  // not passed on in `context`: an auth context belongs to the connection,
  // not the call, and another call on it may carry another token.
  return ToGrpcStatus(authorizer_.AuthenticateOnArrival(
      it != auth_metadata.end() ? &authorization : nullptr, context));
}

}  // namespace reconnect::service
