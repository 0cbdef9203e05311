#ifndef RECONNECT_SERVICE_API_STATUS_MAPPING_H_
#define RECONNECT_SERVICE_API_STATUS_MAPPING_H_

#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "service/decision/request_validator.h"

namespace reconnect::service {

// The one place where an absl::Status becomes a gRPC status. Field
// violations, when given, travel as google.rpc.BadRequest details.
grpc::Status ToGrpcStatus(const absl::Status& status,
                          const std::vector<FieldViolation>& violations = {});

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_API_STATUS_MAPPING_H_
