#ifndef RECONNECT_TESTS_TESTING_BAD_REQUEST_H_
#define RECONNECT_TESTS_TESTING_BAD_REQUEST_H_

#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace reconnect::testing_util {

// The fields the google.rpc.BadRequest details of `s` name, in order; empty
// when it carries none.
inline std::vector<std::string> BadFields(const grpc::Status& s) {
  google::rpc::Status rich;
  std::vector<std::string> fields;
  if (!rich.ParseFromString(s.error_details())) return fields;
  for (const auto& any : rich.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) fields.push_back(v.field());
    }
  }
  return fields;
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_BAD_REQUEST_H_
