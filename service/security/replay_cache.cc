#include "service/security/replay_cache.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "openssl/sha.h"

namespace reconnect::service {

namespace {

// Expired entries are swept at most this often, besides whenever the cache
// is full: a sweep walks every entry.
constexpr absl::Duration kSweepInterval = absl::Seconds(10);

absl::uint128 Digest(std::string_view issuer, std::string_view jti) {
  // The issuer's length first, so that no (issuer, id) pair can be written
  // as another.
  const std::string input = absl::StrCat(
      issuer.size(), ":", absl::string_view(issuer.data(), issuer.size()),
      absl::string_view(jti.data(), jti.size()));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  uint64_t high, low;
  std::memcpy(&high, digest, sizeof(high));
  std::memcpy(&low, digest + sizeof(high), sizeof(low));
  return absl::MakeUint128(high, low);
}

}  // namespace

void ReplayCache::Sweep(absl::Time now) {
  absl::erase_if(seen_,
                 [now](const auto& entry) { return entry.second < now; });
  last_sweep_ = now;
}

ReplayCache::Result ReplayCache::Admit(std::string_view issuer,
                                       std::string_view jti,
                                       absl::Time keep_until, absl::Time now) {
  const absl::uint128 key = Digest(issuer, jti);
  absl::MutexLock lock(&mu_);
  if (now - last_sweep_ >= kSweepInterval) Sweep(now);
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    if (it->second >= now) return Result::kReplayed;
    it->second = keep_until;  // expired: its token is refused on expiry
    return Result::kFirstUse;
  }
  if (seen_.size() >= capacity_) {
    Sweep(now);
    if (seen_.size() >= capacity_) return Result::kFull;
  }
  seen_.emplace(key, keep_until);
  return Result::kFirstUse;
}

size_t ReplayCache::size() const {
  absl::MutexLock lock(&mu_);
  return seen_.size();
}

}  // namespace reconnect::service
