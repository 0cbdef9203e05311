#ifndef RECONNECT_SERVICE_COMMON_RULE_SET_SIGNATURE_H_
#define RECONNECT_SERVICE_COMMON_RULE_SET_SIGNATURE_H_

#include <string>

namespace reconnect::service {

// One sign-off of a rule-set version, as signatures.json holds it and the
// audit store keeps it. The readable fields repeat what the JWS payload
// says; a verifier checks that they agree.
struct RuleSetSignature {
  std::string digest;     // the rule set's canonical digest it covers
  std::string role;       // clinical_safety_officer, clinical_lead, governance
  std::string signer;     // the person's name, as in ruleset.json approvers
  std::string signed_at;  // RFC 3339, UTC
  std::string key_id;     // the kid of the signing key in the signers' JWKS
  std::string algorithm;  // ES256 or EdDSA
  std::string jws;        // compact JWS over {digest, role, signer, signed_at}
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_COMMON_RULE_SET_SIGNATURE_H_
