// `audit verify`: checks a SQLite audit store's trail record by record.

#include <sqlite3.h>

#include <memory>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "service/audit/audit_store.h"
#include "service/audit/chain.h"
#include "service/audit/internal/schema.h"
#include "service/audit/internal/sqlite.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

using audit_internal::CheckReadable;
using audit_internal::kDecisionColumns;
using audit_internal::ReadDecision;
using audit_internal::Statement;

absl::StatusOr<VerifyReport> VerifyAuditTrail(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    return absl::NotFoundError(
        absl::StrCat("cannot open audit store ", path, ": ",
                     raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  RETURN_IF_ERROR(CheckReadable(db.get(), path));
  std::set<std::string> rule_sets;
  Statement digests(db.get(), "SELECT digest FROM rule_sets");
  while (digests.Step() == SQLITE_ROW) rule_sets.insert(digests.Bytes(0));

  VerifyReport report;
  auto broken = [&](int64_t sequence, std::string problem) {
    report.broken_sequence = sequence;
    report.problem = std::move(problem);
    return report;
  };
  Statement rows(db.get(), absl::StrCat("SELECT ", kDecisionColumns,
                                        " FROM decisions ORDER BY sequence")
                               .c_str());
  int64_t expected = 1;
  std::string prev = ZeroHash();
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    DecisionRecord r = ReadDecision(rows);
    if (r.sequence != expected) {
      return broken(expected,
                    absl::StrCat("record ", expected,
                                 " is missing (the next one present is ",
                                 r.sequence, ")"));
    }
    if (r.prev_hash != prev) {
      return broken(r.sequence,
                    absl::StrCat("record ", r.sequence,
                                 " does not link to the record before it"));
    }
    if (ChainHash(r) != r.hash) {
      return broken(r.sequence,
                    absl::StrCat("record ", r.sequence,
                                 " was altered: its hash does not match its "
                                 "content"));
    }
    if (!rule_sets.count(r.rule_set_digest)) {
      return broken(
          r.sequence,
          absl::StrCat("record ", r.sequence, " names rule set ",
                       r.rule_set_digest, ", which the store does not hold"));
    }
    prev = r.hash;
    ++expected;
    ++report.records;
  }
  if (step != SQLITE_DONE) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path, ": ", rows.Error()));
  }
  report.head_sequence = expected - 1;
  report.head_hash = absl::BytesToHexString(prev);
  Statement head(db.get(), "SELECT sequence, hash FROM head WHERE id = 1");
  if (head.Step() != SQLITE_ROW) {
    return broken(expected, "the chain head is missing");
  }
  if (head.Int(0) != report.head_sequence || head.Bytes(1) != prev) {
    return broken(
        expected,
        absl::StrCat("the trail ends at record ", report.head_sequence,
                     " but its last commit recorded record ", head.Int(0),
                     ": records were removed"));
  }
  return report;
}

}  // namespace reconnect::service
