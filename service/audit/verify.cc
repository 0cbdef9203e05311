// `audit verify`: checks a SQLite audit store's trail record by record.

#include <sqlite3.h>

#include <memory>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/ruleset/rule_set.h"
#include "service/audit/audit_store.h"
#include "service/audit/chain.h"
#include "service/audit/internal/schema.h"
#include "service/audit/internal/sqlite.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

using audit_internal::CheckReadable;
using audit_internal::DecisionColumns;
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
  ASSIGN_OR_RETURN(const int version, CheckReadable(db.get(), path));
  // Every stored rule set must rebuild to its own digest, or the decisions
  // it made cannot be replayed: the first that does not is the problem.
  std::set<std::string> rule_sets;
  std::string altered_digest, altered_problem;
  Statement stored(db.get(),
                   "SELECT digest, id, version, content FROM rule_sets"
                   " ORDER BY first_recorded_micros, digest");
  while (stored.Step() == SQLITE_ROW) {
    const std::string digest = stored.Bytes(0);
    rule_sets.insert(digest);
    if (!altered_digest.empty()) continue;
    ruleset::LoadResult rebuilt =
        ruleset::LoadCanonicalRuleSet(stored.Bytes(3), digest);
    if (rebuilt.rule_set == nullptr) {
      altered_digest = digest;
      altered_problem = absl::StrCat(
          "stored rule set ", stored.Bytes(1), " ", stored.Bytes(2), " (",
          digest, ") was altered: ",
          rebuilt.issues.empty() ? "it does not rebuild"
                                 : rebuilt.issues.front().ToString());
    }
  }

  VerifyReport report;
  auto broken = [&](int64_t sequence, std::string problem) {
    report.broken_sequence = sequence;
    report.problem = std::move(problem);
    return report;
  };
  Statement rows(db.get(), absl::StrCat("SELECT ", DecisionColumns(version),
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
    if (r.rule_set_digest == altered_digest) {
      return broken(r.sequence,
                    absl::StrCat("record ", r.sequence, " was decided by the ",
                                 altered_problem));
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
  const int64_t head_sequence = head.Int(0);
  if (head_sequence > report.head_sequence) {
    return broken(
        expected,
        absl::StrCat("the trail ends at record ", report.head_sequence,
                     " but its last commit recorded record ", head_sequence,
                     ": records were removed"));
  }
  if (head_sequence < report.head_sequence) {
    return broken(
        head_sequence + 1,
        absl::StrCat("the trail holds records up to ", report.head_sequence,
                     " but its last commit recorded record ", head_sequence,
                     ": records ", head_sequence + 1,
                     " on were added outside the service"));
  }
  if (head.Bytes(1) != prev) {
    return broken(report.head_sequence,
                  absl::StrCat("the recorded chain head was altered: its hash "
                               "is not record ",
                               report.head_sequence, "'s"));
  }
  if (!altered_digest.empty()) {
    // Altered, though no recorded decision names it.
    report.problem = altered_problem;
    return report;
  }
  return report;
}

}  // namespace reconnect::service
