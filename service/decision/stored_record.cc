#include "service/decision/stored_record.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "openssl/evp.h"
#include "openssl/hmac.h"

namespace reconnect::service {

std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

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

std::string StoredAssessment(const v1::Assessment& assessment,
                             const std::string& patient_ref_key,
                             std::string* patient_hmac) {
  if (patient_hmac != nullptr) patient_hmac->clear();
  if (assessment.patient_ref().empty()) return DeterministicBytes(assessment);
  v1::Assessment stored = assessment;
  stored.set_patient_ref(
      patient_ref_key.empty()
          ? std::string()
          : PatientRefHmac(patient_ref_key, assessment.patient_ref()));
  if (patient_hmac != nullptr) *patient_hmac = stored.patient_ref();
  return DeterministicBytes(stored);
}

}  // namespace reconnect::service
