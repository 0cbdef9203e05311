#include "service/audit/chain.h"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

namespace reconnect::service {

namespace {

void AddBytes(EVP_MD_CTX* ctx, const std::string& s) {
  unsigned char len[8];
  uint64_t n = s.size();
  for (int i = 7; i >= 0; --i, n >>= 8) len[i] = static_cast<unsigned char>(n);
  EVP_DigestUpdate(ctx, len, sizeof(len));
  EVP_DigestUpdate(ctx, s.data(), s.size());
}

void AddInt(EVP_MD_CTX* ctx, int64_t v) {
  unsigned char b[8];
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i, u >>= 8) b[i] = static_cast<unsigned char>(u);
  EVP_DigestUpdate(ctx, b, sizeof(b));
}

std::string Finish(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// hash = SHA-256(0x01 || prev_hash || leaf).
std::string Node(EVP_MD_CTX* ctx, const std::string& prev_hash,
                 const std::string& leaf) {
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  const unsigned char node_prefix = 0x01;
  EVP_DigestUpdate(ctx, &node_prefix, 1);
  EVP_DigestUpdate(ctx, prev_hash.data(), prev_hash.size());
  EVP_DigestUpdate(ctx, leaf.data(), leaf.size());
  return Finish(ctx);
}

void StartLeaf(EVP_MD_CTX* ctx) {
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  const unsigned char leaf_prefix = 0x00;
  EVP_DigestUpdate(ctx, &leaf_prefix, 1);
}

}  // namespace

const std::string& ZeroHash() {
  static const auto* zero = new std::string(32, '\0');
  return *zero;
}

std::string ChainHash(const DecisionRecord& r) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  StartLeaf(ctx.get());
  AddInt(ctx.get(), r.sequence);
  AddBytes(ctx.get(), r.decision_id);
  AddInt(ctx.get(), r.time_micros);
  AddBytes(ctx.get(), r.calling_system);
  AddBytes(ctx.get(), r.caller);
  AddBytes(ctx.get(), r.rule_set_digest);
  AddBytes(ctx.get(), r.assessment);
  AddBytes(ctx.get(), r.recommendation);
  // Only when there is one, so that records from before contexts existed
  // keep their hashes.
  if (!r.context.empty()) AddBytes(ctx.get(), r.context);
  const std::string leaf = Finish(ctx.get());
  return Node(ctx.get(), r.prev_hash, leaf);
}

std::string FeedbackChainHash(const FeedbackRecord& r) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  StartLeaf(ctx.get());
  AddBytes(ctx.get(), "feedback");
  AddInt(ctx.get(), r.sequence);
  AddInt(ctx.get(), r.time_micros);
  AddBytes(ctx.get(), r.caller);
  AddBytes(ctx.get(), r.service);
  AddBytes(ctx.get(), r.card_uuid);
  AddBytes(ctx.get(), r.outcome);
  AddBytes(ctx.get(), r.outcome_time);
  AddInt(ctx.get(), static_cast<int64_t>(r.accepted_suggestions.size()));
  for (const std::string& s : r.accepted_suggestions) AddBytes(ctx.get(), s);
  AddBytes(ctx.get(), r.override_reason);
  AddBytes(ctx.get(), r.decision_id);
  AddBytes(ctx.get(), r.card_item);
  AddInt(ctx.get(), static_cast<int64_t>(r.rule_ids.size()));
  for (const std::string& s : r.rule_ids) AddBytes(ctx.get(), s);
  AddBytes(ctx.get(), r.rule_set_digest);
  const std::string leaf = Finish(ctx.get());
  return Node(ctx.get(), r.prev_hash, leaf);
}

}  // namespace reconnect::service
