#ifndef RECONNECT_SERVICE_DECISION_STORED_RECORD_H_
#define RECONNECT_SERVICE_DECISION_STORED_RECORD_H_

// What an audit record stores of a decision, the same for every interface
// (gRPC, CDS Hooks).

#include <string>

#include "google/protobuf/message.h"
#include "reconnect/v1/assessment.pb.h"

namespace reconnect::service {

// Deterministic binary, so that a record's bytes (and so its hash) depend
// only on the message.
std::string DeterministicBytes(const google::protobuf::Message& m);

// "hmac-sha256:" and the hex HMAC-SHA256 of `ref` under `key`.
std::string PatientRefHmac(const std::string& key, const std::string& ref);

// The assessment as recorded: as submitted, but for the patient reference,
// which is stored only as its HMAC under `patient_ref_key` (and not at all
// without a key), so that the same patient links across decisions for
// whoever holds the key, and for no one else. `patient_hmac`, when not
// null, is set to that HMAC (empty when none is stored).
std::string StoredAssessment(const v1::Assessment& assessment,
                             const std::string& patient_ref_key,
                             std::string* patient_hmac = nullptr);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_DECISION_STORED_RECORD_H_
