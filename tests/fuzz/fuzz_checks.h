#ifndef RECONNECT_TESTS_FUZZ_FUZZ_CHECKS_H_
#define RECONNECT_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "engine/cel/common/source.h"

namespace reconnect::fuzz {

// The contract every stage keeps on any input: it succeeds with no issue,
// or fails with at least one, and every issue has a position and a message.
// A breach aborts, which the fuzzer reports as a crash.
inline void CheckOutcome(bool ok, const std::vector<cel::Issue>& issues) {
  if (ok != issues.empty()) {
    std::fprintf(stderr, "outcome %s with %zu issue(s)\n", ok ? "ok" : "failed",
                 issues.size());
    std::abort();
  }
  for (const cel::Issue& issue : issues) {
    if (issue.position.line < 1 || issue.position.column < 1 ||
        issue.message.empty()) {
      std::fprintf(stderr, "issue without a position or message: %s\n",
                   issue.ToString().c_str());
      std::abort();
    }
  }
}

}  // namespace reconnect::fuzz

#endif  // RECONNECT_TESTS_FUZZ_FUZZ_CHECKS_H_
