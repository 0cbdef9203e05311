// `audit verify`: checks a SQLite audit store's trail record by record.

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

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

namespace {

// Checks a chain's recorded head (table `table`, called `head_name`)
// against the chain `trail` as read: its last record `last` with hash
// `last_hash`; `what` names its records ("record", "feedback record"). The
// first broken sequence and the problem, or nullopt.
std::optional<std::pair<int64_t, std::string>> CheckHead(
    sqlite3* db, const char* table, const std::string& head_name,
    const std::string& trail, const std::string& what, int64_t last,
    const std::string& last_hash) {
  Statement head(
      db, absl::StrCat("SELECT sequence, hash FROM ", table, " WHERE id = 1")
              .c_str());
  if (head.Step() != SQLITE_ROW) {
    return std::make_pair(last + 1,
                          absl::StrCat("the ", head_name, " is missing"));
  }
  const int64_t head_sequence = head.Int(0);
  if (head_sequence > last) {
    return std::make_pair(
        last + 1, absl::StrCat("the ", trail, " ends at ", what, " ", last,
                               " but its last commit recorded ", what, " ",
                               head_sequence, ": ", what, "s were removed"));
  }
  if (head_sequence < last) {
    return std::make_pair(
        head_sequence + 1,
        absl::StrCat("the ", trail, " holds ", what, "s up to ", last,
                     " but its last commit recorded ", what, " ", head_sequence,
                     ": ", what, "s ", head_sequence + 1,
                     " on were added outside the service"));
  }
  if (head.Bytes(1) != last_hash) {
    return std::make_pair(last, absl::StrCat("the recorded ", head_name,
                                             " was altered: its hash is not ",
                                             what, " ", last, "'s"));
  }
  return std::nullopt;
}

// The feedback chain: each record in sequence, linked, unaltered, about a
// decision the store holds, and ending at its recorded head. The first
// problem (with the feedback record's sequence), or nullopt; counts the
// records and sets the head in `report`.
std::optional<std::pair<int64_t, std::string>> VerifyFeedback(
    sqlite3* db, VerifyReport& report) {
  Statement rows(db, absl::StrCat("SELECT ", audit_internal::kFeedbackColumns,
                                  ", EXISTS (SELECT 1 FROM decisions d WHERE"
                                  " d.decision_id = feedback.decision_id)"
                                  " FROM feedback ORDER BY sequence")
                         .c_str());
  int64_t expected = 1;
  std::string prev = ZeroHash();
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    FeedbackRecord f = audit_internal::ReadFeedback(rows);
    const std::string which = absl::StrCat("feedback record ", f.sequence);
    if (f.sequence != expected) {
      return std::make_pair(
          expected, absl::StrCat("feedback record ", expected,
                                 " is missing (the next one present is ",
                                 f.sequence, ")"));
    }
    if (f.prev_hash != prev) {
      return std::make_pair(
          f.sequence,
          absl::StrCat(which, " does not link to the record before it"));
    }
    if (FeedbackChainHash(f) != f.hash) {
      return std::make_pair(
          f.sequence, absl::StrCat(which,
                                   " was altered: its hash does not match "
                                   "its content"));
    }
    if (rows.Int(15) == 0) {
      return std::make_pair(
          f.sequence, absl::StrCat(which, " is about decision ", f.decision_id,
                                   ", which the store does not hold"));
    }
    prev = f.hash;
    ++expected;
    ++report.feedback_records;
  }
  if (step != SQLITE_DONE) {
    return std::make_pair(
        expected, absl::StrCat("cannot read the feedback: ", rows.Error()));
  }
  report.feedback_head_hash = absl::BytesToHexString(prev);
  return CheckHead(db, "feedback_head", "feedback chain head", "feedback chain",
                   "feedback record", expected - 1, prev);
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyAuditTrail(const std::string& path,
                                              const VerifyProgress& progress) {
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

  // How many there should be, for progress: the head the last commit
  // recorded (checked against the records below).
  int64_t total = 0;
  if (progress) {
    Statement head(db.get(), "SELECT sequence FROM head WHERE id = 1");
    if (head.Step() == SQLITE_ROW) total = head.Int(0);
  }
  constexpr int64_t kProgressEvery = 4096;
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
    if (progress && report.records % kProgressEvery == 0 &&
        !progress(report.records, total)) {
      return absl::CancelledError(absl::StrCat("the check of ", path,
                                               " was stopped after ",
                                               report.records, " records"));
    }
  }
  if (step != SQLITE_DONE) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path, ": ", rows.Error()));
  }
  if (progress && !progress(report.records, total)) {
    return absl::CancelledError(absl::StrCat("the check of ", path,
                                             " was stopped after ",
                                             report.records, " records"));
  }
  report.head_sequence = expected - 1;
  report.head_hash = absl::BytesToHexString(prev);
  if (auto problem = CheckHead(db.get(), "head", "chain head", "trail",
                               "record", report.head_sequence, prev)) {
    return broken(problem->first, std::move(problem->second));
  }
  if (version >= 4) {
    std::optional<std::pair<int64_t, std::string>> feedback_problem =
        VerifyFeedback(db.get(), report);
    if (feedback_problem.has_value()) {
      report.problem = std::move(feedback_problem->second);
      report.broken_sequence = feedback_problem->first;
      return report;
    }
  }
  if (!altered_digest.empty()) {
    // Altered, though no recorded decision names it.
    report.problem = altered_problem;
    return report;
  }
  return report;
}

}  // namespace reconnect::service
