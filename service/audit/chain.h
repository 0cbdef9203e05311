#ifndef RECONNECT_SERVICE_AUDIT_CHAIN_H_
#define RECONNECT_SERVICE_AUDIT_CHAIN_H_

#include <string>

#include "service/audit/audit_store.h"

namespace reconnect::service {

// The chain hash of `r` over `r.prev_hash`, with RFC 6962's domain
// separation: leaf = SHA-256(0x00 || fields), each field length-prefixed;
// hash = SHA-256(0x01 || prev_hash || leaf). 32 bytes.
std::string ChainHash(const DecisionRecord& r);

// The same for a feedback record, in its own chain; its leaf starts with
// the field "feedback", so no feedback leaf is a decision's.
std::string FeedbackChainHash(const FeedbackRecord& r);

// The prev_hash of the first record: 32 zero bytes.
const std::string& ZeroHash();

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_CHAIN_H_
