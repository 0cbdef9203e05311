#ifndef RECONNECT_SERVICE_AUDIT_COPY_H_
#define RECONNECT_SERVICE_AUDIT_COPY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "service/audit/audit_store.h"

namespace reconnect::service {

// What `reconnect audit copy` copied, and what `audit verify` found where it
// arrived.
struct CopyReport {
  int64_t rule_sets = 0;
  int64_t decisions = 0;
  int64_t feedback = 0;
  VerifyReport arrived;
};

// Copies the trail in the SQLite store at `sqlite_path` into the PostgreSQL
// store at `uri` (whose schema is created or migrated, as a server would),
// record for record with their sequences and hashes, then verifies it
// there: it must end at the same heads as the source.
// - FAILED_PRECONDITION when the source does not verify, is of an older
//   schema (a server migrates it when it opens it), or the target already
//   holds records: two trails do not merge into one chain.
// - Everything is copied in one transaction, which also holds the target's
//   chain head: a replica writing meanwhile waits, and a failure copies
//   nothing.
// - DATA_LOSS when what arrived does not verify as the source did.
absl::StatusOr<CopyReport> CopyTrail(const std::string& sqlite_path,
                                     const std::string& uri);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_COPY_H_
