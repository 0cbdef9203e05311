#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_PACKING_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_PACKING_H_

// How the stores keep a decision's assessment and recommendation: zstd
// frames whose dictionary is the canonical content of the rule set that
// decided it. The rule set is stored once (rule_sets.content), and every
// code, display, reason and fact path a recommendation repeats is already
// in it, so a record keeps little more than what is particular to it.
//
// The chain hash stays over the bytes as returned (chain.h): packing is how
// a row holds them, not what the trail attests. Readers unpack before
// anything else sees a record; `audit verify` unpacks, then hashes, so a
// packed row that was altered fails the check either way.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/audit/audit_store.h"

namespace reconnect::service::audit_internal {

// The `packing` column of a decisions row.
enum Packing : int {
  // The bytes as returned: every row of a store from before packing.
  kPackedAsIs = 0,
  // zstd frames with the record's rule set's canonical content as their
  // dictionary.
  kPackedWithRuleSet = 1,
  // zstd frames without a dictionary: the store had not recorded the rule
  // set when it packed the record.
  kPackedAlone = 2,
};

// One rule set's dictionary, prepared once for packing and unpacking.
class PackingDictionary;

// Dictionaries by rule-set digest, prepared once each; safe to share
// between threads.
class PackingDictionaries {
 public:
  PackingDictionaries();
  ~PackingDictionaries();

  // Prepares the dictionary of rule set `digest` from its canonical content;
  // nothing when it is prepared already.
  void Add(const std::string& digest, std::string_view canonical_content);
  // The dictionary of `digest`, or null when none was added.
  std::shared_ptr<const PackingDictionary> Find(
      const std::string& digest) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const PackingDictionary>>
      by_digest_ ABSL_GUARDED_BY(mu_);
};

// A record's assessment and recommendation as its row holds them.
struct PackedContent {
  int packing = kPackedAsIs;
  std::string assessment;
  std::string recommendation;
};

// Packs `r`'s assessment and recommendation with the dictionary of its rule
// set from `dictionaries` (alone when there is none). Each calling thread
// keeps one compression context.
PackedContent Pack(const PackingDictionaries& dictionaries,
                   const DecisionRecord& r);

// Unpacks `r` in place (nothing when it is held as is), finding its rule
// set's dictionary in `dictionaries`, or, when it is not there, adding it
// from `content` (the canonical content of the digest it is given).
// DATA_LOSS naming the record when its bytes do not unpack or its rule set
// is not held; `content`'s own error otherwise.
using RuleSetContentFn =
    std::function<absl::StatusOr<std::string>(const std::string& digest)>;
absl::Status Unpack(PackingDictionaries& dictionaries,
                    const RuleSetContentFn& content, DecisionRecord& r);

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_PACKING_H_
