#ifndef RECONNECT_SERVICE_DECISION_REQUEST_VALIDATOR_H_
#define RECONNECT_SERVICE_DECISION_REQUEST_VALIDATOR_H_

#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "reconnect/v1/options.pb.h"

namespace reconnect::service {

struct FieldViolation {
  std::string field;  // e.g. "assessment.scores.pcs_total"
  std::string description;
};

// Validates messages against the `(reconnect.v1.limits)` field options of
// their schema, and rejects enum numbers the schema does not define. Some
// checks need no option, so that no schema can forget them: every float and
// double (and every number in a google.protobuf.Value) must be finite, and
// every google.protobuf.Timestamp valid as protobuf defines it. The checks
// are planned once per message type at construction.
// Thread-safe after construction.
class EvaluateRequestValidator {
 public:
  // Plans validation for messages of type `root` (and everything below it).
  explicit EvaluateRequestValidator(const google::protobuf::Descriptor* root);

  // Appends every violation in `message`; `prefix` names it ("assessment").
  void Validate(const google::protobuf::Message& message,
                const std::string& prefix,
                std::vector<FieldViolation>& out) const;

 private:
  struct FieldPlan {
    const google::protobuf::FieldDescriptor* field;
    bool has_limits;
    v1::FieldLimits limits;
    int nested;              // index into plans_ for message fields, or -1
    bool timestamp = false;  // a google.protobuf.Timestamp field
    // A google.protobuf.Value, Struct or ListValue field, or a map of them.
    bool dynamic_value = false;
  };
  int Plan(const google::protobuf::Descriptor* d);
  void ValidateWith(int plan, const google::protobuf::Message& m,
                    const std::string& prefix,
                    std::vector<FieldViolation>& out) const;
  // The entries of the map field `p` of `m`: key lengths, value sizes, and
  // numbers in dynamic values.
  void ValidateMap(const FieldPlan& p, const google::protobuf::Message& m,
                   const std::string& path,
                   std::vector<FieldViolation>& out) const;

  std::vector<std::vector<FieldPlan>> plans_;
  std::vector<const google::protobuf::Descriptor*> planned_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_DECISION_REQUEST_VALIDATOR_H_
