#ifndef RECONNECT_SERVICE_SECURITY_REPLAY_CACHE_H_
#define RECONNECT_SERVICE_SECURITY_REPLAY_CACHE_H_

#include <cstddef>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace reconnect::service {

// The token ids (`jti`) already accepted from each issuer, each kept until
// its token expires, so that a captured token cannot be sent again.
// Entries are 128-bit digests of issuer and id, so a long id costs no more
// memory than a short one. Bounded: when full of unexpired tokens it fails
// closed (kFull), because admitting a token it cannot remember would let
// that token be replayed. One per process: replicas do not share it, so
// each keeps its own record of what it accepted. Thread-safe.
class ReplayCache {
 public:
  explicit ReplayCache(size_t capacity) : capacity_(capacity) {}

  enum class Result { kFirstUse, kReplayed, kFull };

  // Remembers (`issuer`, `jti`) until `keep_until` unless it is remembered
  // already (kReplayed) or there is no room (kFull).
  Result Admit(std::string_view issuer, std::string_view jti,
               absl::Time keep_until, absl::Time now);

  size_t size() const;

 private:
  // Drops the entries kept until before `now`.
  void Sweep(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<absl::uint128, absl::Time> seen_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_REPLAY_CACHE_H_
