#include "service/audit/internal/packing.h"

#include <zstd.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

// zstd's fastest regular level: with the rule set as dictionary it keeps a
// record to about a sixth of its size (the catastrophising example: 6,863
// bytes to 1,210; level 3 gave 1,156 for more time), and a caller waits on
// the packing.
constexpr int kLevel = 1;

// No stored field unpacks to more than this: a row claiming more was
// altered, and is refused before anything is allocated for it.
constexpr unsigned long long kMaxUnpackedBytes = 64ull << 20;

struct CContextFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DContextFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Each frame carries a checksum of what it holds, so that a reader finds
// an altered row (a DATA_LOSS) rather than handing out other bytes.
ZSTD_CCtx* ThreadCompressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, CContextFree> context([] {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, kLevel);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    return c;
  }());
  return context.get();
}

ZSTD_DCtx* ThreadDecompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, DContextFree> context(
      ZSTD_createDCtx());
  return context.get();
}

}  // namespace

class PackingDictionary {
 public:
  explicit PackingDictionary(std::string_view content)
      : compress_(ZSTD_createCDict(content.data(), content.size(), kLevel)),
        decompress_(ZSTD_createDDict(content.data(), content.size())) {}
  ~PackingDictionary() {
    ZSTD_freeCDict(compress_);
    ZSTD_freeDDict(decompress_);
  }
  PackingDictionary(const PackingDictionary&) = delete;
  PackingDictionary& operator=(const PackingDictionary&) = delete;

  const ZSTD_CDict* compress() const { return compress_; }
  const ZSTD_DDict* decompress() const { return decompress_; }

 private:
  ZSTD_CDict* compress_;
  ZSTD_DDict* decompress_;
};

PackingDictionaries::PackingDictionaries() = default;
PackingDictionaries::~PackingDictionaries() = default;

void PackingDictionaries::Add(const std::string& digest,
                              std::string_view canonical_content) {
  if (Find(digest) != nullptr) return;
  // Prepared outside the lock: packing goes on meanwhile.
  auto dictionary =
      std::make_shared<const PackingDictionary>(canonical_content);
  absl::MutexLock lock(&mu_);
  by_digest_.try_emplace(digest, std::move(dictionary));
}

std::shared_ptr<const PackingDictionary> PackingDictionaries::Find(
    const std::string& digest) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_digest_.find(digest);
  return it == by_digest_.end() ? nullptr : it->second;
}

namespace {

std::string PackField(const PackingDictionary* dictionary,
                      const std::string& bytes) {
  std::string packed(ZSTD_compressBound(bytes.size()), '\0');
  ZSTD_CCtx* context = ThreadCompressor();
  // The parameters set above stay; the dictionary is this frame's own.
  ZSTD_CCtx_refCDict(context,
                     dictionary != nullptr ? dictionary->compress() : nullptr);
  const size_t n = ZSTD_compress2(context, packed.data(), packed.size(),
                                  bytes.data(), bytes.size());
  // Only a failed allocation fails here (the bound is zstd's own): the
  // error is zstd's code, which is not a size, so the frame is not used.
  if (ZSTD_isError(n)) std::abort();
  packed.resize(n);
  return packed;
}

absl::Status UnpackField(const PackingDictionary* dictionary,
                         const DecisionRecord& r, const char* field,
                         std::string& bytes) {
  auto refuse = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat(
        "record ", r.sequence, " was altered: the stored ", field,
        " of decision ", r.decision_id, " does not unpack (", why, ")"));
  };
  const unsigned long long size =
      ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return refuse("it is not a whole zstd frame");
  }
  if (size > kMaxUnpackedBytes) {
    return refuse(absl::StrCat("it claims ", size, " bytes"));
  }
  std::string unpacked(size, '\0');
  ZSTD_DCtx* context = ThreadDecompressor();
  const size_t n =
      dictionary != nullptr
          ? ZSTD_decompress_usingDDict(context, unpacked.data(),
                                       unpacked.size(), bytes.data(),
                                       bytes.size(), dictionary->decompress())
          : ZSTD_decompressDCtx(context, unpacked.data(), unpacked.size(),
                                bytes.data(), bytes.size());
  if (ZSTD_isError(n)) return refuse(ZSTD_getErrorName(n));
  if (n != size) {
    return refuse(absl::StrCat("it gave ", n, " of the ", size,
                               " bytes its frame claims"));
  }
  bytes = std::move(unpacked);
  return absl::OkStatus();
}

}  // namespace

PackedContent Pack(const PackingDictionaries& dictionaries,
                   const DecisionRecord& r) {
  const std::shared_ptr<const PackingDictionary> dictionary =
      dictionaries.Find(r.rule_set_digest);
  PackedContent packed;
  packed.packing = dictionary != nullptr ? kPackedWithRuleSet : kPackedAlone;
  packed.assessment = PackField(dictionary.get(), r.assessment);
  packed.recommendation = PackField(dictionary.get(), r.recommendation);
  return packed;
}

absl::Status Unpack(PackingDictionaries& dictionaries,
                    const RuleSetContentFn& content, DecisionRecord& r) {
  std::shared_ptr<const PackingDictionary> dictionary;
  switch (r.packing) {
    case kPackedAsIs:
      return absl::OkStatus();
    case kPackedAlone:
      break;
    case kPackedWithRuleSet:
      dictionary = dictionaries.Find(r.rule_set_digest);
      if (dictionary == nullptr) {
        absl::StatusOr<std::string> text = content(r.rule_set_digest);
        if (absl::IsNotFound(text.status())) {
          return absl::DataLossError(
              absl::StrCat("record ", r.sequence, " (decision ", r.decision_id,
                           ") is packed with rule set ", r.rule_set_digest,
                           ", which the store does not hold"));
        }
        RETURN_IF_ERROR(text.status());
        dictionaries.Add(r.rule_set_digest, *text);
        dictionary = dictionaries.Find(r.rule_set_digest);
      }
      break;
    default:
      return absl::DataLossError(absl::StrCat(
          "record ", r.sequence, " (decision ", r.decision_id, ") has packing ",
          r.packing, ", which this reconnect does not know"));
  }
  RETURN_IF_ERROR(UnpackField(dictionary.get(), r, "assessment", r.assessment));
  RETURN_IF_ERROR(
      UnpackField(dictionary.get(), r, "recommendation", r.recommendation));
  r.packing = kPackedAsIs;
  return absl::OkStatus();
}

}  // namespace reconnect::service::audit_internal
