#ifndef RECONNECT_SERVICE_AUDIT_CHAIN_H_
#define RECONNECT_SERVICE_AUDIT_CHAIN_H_

#include <string>

#include "service/audit/audit_store.h"

namespace reconnect::service {

// The chain hash of `r` over `r.prev_hash`, with RFC 6962's domain
// separation: leaf = SHA-256(0x00 || fields), each field length-prefixed;
// hash = SHA-256(0x01 || prev_hash || leaf). 32 bytes.
std::string ChainHash(const DecisionRecord& r);

// The prev_hash of the first record: 32 zero bytes.
const std::string& ZeroHash();

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_CHAIN_H_
