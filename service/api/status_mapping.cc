#include "service/api/status_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace reconnect::service {

grpc::Status ToGrpcStatus(const absl::Status& status,
                          const std::vector<FieldViolation>& violations) {
  if (status.ok()) return grpc::Status::OK;
  // absl status codes are the gRPC codes, by design.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  if (violations.empty()) return grpc::Status(code, message);
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(code));
  rich.set_message(message);
  rich.add_details()->PackFrom(bad_request);
  return grpc::Status(code, message, rich.SerializeAsString());
}

}  // namespace reconnect::service
