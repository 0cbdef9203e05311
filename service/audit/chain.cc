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

}  // namespace

const std::string& ZeroHash() {
  static const auto* zero = new std::string(32, '\0');
  return *zero;
}

std::string ChainHash(const DecisionRecord& r) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  const unsigned char leaf_prefix = 0x00;
  EVP_DigestUpdate(ctx.get(), &leaf_prefix, 1);
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

  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  const unsigned char node_prefix = 0x01;
  EVP_DigestUpdate(ctx.get(), &node_prefix, 1);
  EVP_DigestUpdate(ctx.get(), r.prev_hash.data(), r.prev_hash.size());
  EVP_DigestUpdate(ctx.get(), leaf.data(), leaf.size());
  return Finish(ctx.get());
}

}  // namespace reconnect::service
