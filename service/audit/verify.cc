// `audit verify`: checks a store's trail record by record, whichever store
// keeps it (internal/trail_source.h).

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
#include "service/audit/internal/packing.h"
#include "service/audit/internal/trail_source.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

using audit_internal::TrailSource;

namespace {

using Problem = std::optional<std::pair<int64_t, std::string>>;

// Checks a chain's recorded head (`head`, called `head_name`) against the
// chain `trail` as read: its last record `last` with hash `last_hash`;
// `what` names its records ("record", "feedback record").
Problem CheckHead(const std::optional<std::pair<int64_t, std::string>>& head,
                  const std::string& head_name, const std::string& trail,
                  const std::string& what, int64_t last,
                  const std::string& last_hash) {
  if (!head.has_value()) {
    return std::make_pair(last + 1,
                          absl::StrCat("the ", head_name, " is missing"));
  }
  const int64_t head_sequence = head->first;
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
  if (head->second != last_hash) {
    return std::make_pair(last, absl::StrCat("the recorded ", head_name,
                                             " was altered: its hash is not ",
                                             what, " ", last, "'s"));
  }
  return std::nullopt;
}

// The feedback chain: each record in sequence, linked, unaltered, about a
// decision the store holds, and ending at its recorded head. Counts the
// records and sets the head in `report`.
absl::StatusOr<Problem> VerifyFeedback(TrailSource& source,
                                       VerifyReport& report) {
  int64_t expected = 1;
  std::string prev = ZeroHash();
  Problem problem;
  RETURN_IF_ERROR(source.ForEachFeedback([&](const FeedbackRecord& f,
                                             bool decision_held) {
    const std::string which = absl::StrCat("feedback record ", f.sequence);
    if (f.sequence != expected) {
      problem = std::make_pair(
          expected, absl::StrCat("feedback record ", expected,
                                 " is missing (the next one present is ",
                                 f.sequence, ")"));
    } else if (f.prev_hash != prev) {
      problem = std::make_pair(
          f.sequence,
          absl::StrCat(which, " does not link to the record before it"));
    } else if (FeedbackChainHash(f) != f.hash) {
      problem = std::make_pair(
          f.sequence, absl::StrCat(which,
                                   " was altered: its hash does not match "
                                   "its content"));
    } else if (!decision_held) {
      problem = std::make_pair(
          f.sequence, absl::StrCat(which, " is about decision ", f.decision_id,
                                   ", which the store does not hold"));
    }
    if (problem.has_value()) return false;
    prev = f.hash;
    ++expected;
    ++report.feedback_records;
    return true;
  }));
  if (problem.has_value()) return problem;
  report.feedback_head_hash = absl::BytesToHexString(prev);
  ASSIGN_OR_RETURN(auto head, source.Head(/*feedback=*/true));
  return CheckHead(head, "feedback chain head", "feedback chain",
                   "feedback record", expected - 1, prev);
}

absl::StatusOr<VerifyReport> CheckTrail(TrailSource& source,
                                        const std::string& name,
                                        const VerifyProgress& progress) {
  // Every stored rule set must rebuild to its own digest, or the decisions
  // it made cannot be replayed: the first that does not is the problem.
  std::set<std::string> rule_sets;
  std::string altered_digest, altered_problem;
  // Each stored rule set is also the dictionary its decisions were packed
  // with (packing.h).
  audit_internal::PackingDictionaries dictionaries;
  RETURN_IF_ERROR(source.ForEachRuleSet(
      [&](const std::string& digest, const std::string& id,
          const std::string& version, const std::string& content) {
        rule_sets.insert(digest);
        dictionaries.Add(digest, content);
        if (!altered_digest.empty()) return;
        ruleset::LoadResult rebuilt =
            ruleset::LoadCanonicalRuleSet(content, digest);
        if (rebuilt.rule_set == nullptr) {
          altered_digest = digest;
          altered_problem = absl::StrCat(
              "stored rule set ", id, " ", version, " (", digest,
              ") was altered: ",
              rebuilt.issues.empty() ? "it does not rebuild"
                                     : rebuilt.issues.front().ToString());
        }
      }));

  // The head the last commit recorded: how many there should be, for
  // progress, and checked against the records below.
  ASSIGN_OR_RETURN(auto head, source.Head(/*feedback=*/false));
  const int64_t total = head.has_value() ? head->first : 0;
  constexpr int64_t kProgressEvery = 4096;
  VerifyReport report;
  int64_t expected = 1;
  std::string prev = ZeroHash();
  Problem problem;
  bool cancelled = false;
  const audit_internal::RuleSetContentFn not_held =
      [](const std::string& digest) -> absl::StatusOr<std::string> {
    return absl::NotFoundError(digest);
  };
  DecisionRecord unpacked;
  absl::Status unpacking;
  RETURN_IF_ERROR(source.ForEachDecision([&](const DecisionRecord& stored) {
    // The hash is over the bytes as returned: unpacked first.
    const DecisionRecord* read = &stored;
    unpacking = absl::OkStatus();
    if (stored.packing != audit_internal::kPackedAsIs) {
      unpacked = stored;
      unpacking = audit_internal::Unpack(dictionaries, not_held, unpacked);
      read = &unpacked;
    }
    const DecisionRecord& r = *read;
    if (r.sequence != expected) {
      problem = std::make_pair(
          expected, absl::StrCat("record ", expected,
                                 " is missing (the next one present is ",
                                 r.sequence, ")"));
    } else if (r.prev_hash != prev) {
      problem = std::make_pair(
          r.sequence, absl::StrCat("record ", r.sequence,
                                   " does not link to the record before it"));
    } else if (!unpacking.ok() && r.rule_set_digest != altered_digest) {
      // (Its rule set is also its dictionary: an altered one is the cause.)
      problem = std::make_pair(r.sequence, std::string(unpacking.message()));
    } else if (unpacking.ok() && ChainHash(r) != r.hash) {
      problem = std::make_pair(
          r.sequence,
          absl::StrCat("record ", r.sequence,
                       " was altered: its hash does not match its content"));
    } else if (r.rule_set_digest == altered_digest) {
      problem = std::make_pair(
          r.sequence, absl::StrCat("record ", r.sequence,
                                   " was decided by the ", altered_problem));
    } else if (!rule_sets.count(r.rule_set_digest)) {
      problem = std::make_pair(
          r.sequence,
          absl::StrCat("record ", r.sequence, " names rule set ",
                       r.rule_set_digest, ", which the store does not hold"));
    }
    if (problem.has_value()) return false;
    prev = r.hash;
    ++expected;
    ++report.records;
    if (progress && report.records % kProgressEvery == 0 &&
        !progress(report.records, total)) {
      cancelled = true;
      return false;
    }
    return true;
  }));
  if (!problem.has_value() && !cancelled && progress) {
    cancelled = !progress(report.records, total);
  }
  if (cancelled) {
    return absl::CancelledError(absl::StrCat("the check of ", name,
                                             " was stopped after ",
                                             report.records, " records"));
  }
  if (!problem.has_value()) {
    report.head_sequence = expected - 1;
    report.head_hash = absl::BytesToHexString(prev);
    problem = CheckHead(head, "chain head", "trail", "record",
                        report.head_sequence, prev);
  }
  if (!problem.has_value() && source.has_feedback()) {
    ASSIGN_OR_RETURN(problem, VerifyFeedback(source, report));
  }
  if (problem.has_value()) {
    report.broken_sequence = problem->first;
    report.problem = std::move(problem->second);
  } else if (!altered_digest.empty()) {
    // Altered, though no recorded decision names it.
    report.problem = altered_problem;
  }
  return report;
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyAuditTrail(const std::string& path,
                                              const VerifyProgress& progress) {
  absl::StatusOr<std::unique_ptr<TrailSource>> source =
      IsPostgresUri(path) ? audit_internal::OpenPostgresTrail(path)
                          : audit_internal::OpenSqliteTrail(path);
  RETURN_IF_ERROR(source.status());
  absl::StatusOr<VerifyReport> report = CheckTrail(**source, path, progress);
  if (!report.ok() && absl::IsDataLoss(report.status())) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path, ": ", report.status().message()));
  }
  return report;
}

}  // namespace reconnect::service
