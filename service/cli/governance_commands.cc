#include "service/cli/governance_commands.h"

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/ruleset/diff.h"
#include "engine/ruleset/rule_set.h"
#include "service/audit/audit_store.h"
#include "service/audit/copy.h"
#include "service/audit/impact.h"
#include "service/audit/replay.h"
#include "service/cli/command_output.h"
#include "service/web/report.h"

namespace reconnect::service {

int RunAuditVerify(const std::string& path) {
  auto report = VerifyAuditTrail(path);
  if (!report.ok()) {
    std::cerr << "reconnect: " << report.status().message() << "\n";
    return 2;
  }
  return PrintVerifyReport(*report);
}

int RunAuditCopy(const std::string& from, const std::string& to) {
  absl::StatusOr<CopyReport> copied = CopyTrail(from, to);
  if (!copied.ok()) {
    std::cerr << "reconnect: " << copied.status().message() << "\n";
    return absl::IsDataLoss(copied.status()) ? 1 : 2;
  }
  std::cout << "copied " << copied->decisions << " decision(s), "
            << copied->feedback << " feedback record(s) and "
            << copied->rule_sets << " rule set(s) from " << from << "\n";
  return PrintVerifyReport(copied->arrived);
}

namespace {

// A day from a date (2026-12-01) or an RFC 3339 time (its UTC day); false,
// saying why, when it is neither.
bool ReadDay(const std::string& text, const char* flag, int64_t& day) {
  absl::Time t;
  std::string error;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error) ||
      absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    day = DayOf(absl::ToUnixMicros(t));
    return true;
  }
  std::cerr << "reconnect: " << flag << " '" << text
            << "' is neither a date (2026-12-01) nor an RFC 3339 time\n";
  return false;
}

// The candidate rule set in `dir`; null, saying why, when it does not load.
std::shared_ptr<const ruleset::CompiledRuleSet> LoadCandidate(
    const std::string& dir) {
  ruleset::LoadResult candidate = ruleset::LoadRuleSet(dir);
  if (!candidate.rule_set) {
    std::cerr << "reconnect: the candidate does not load: "
              << (candidate.issues.empty() ? dir
                                           : candidate.issues[0].ToString())
              << " (" << candidate.issues.size()
              << " problem(s); see reconnect lint)\n";
  }
  return candidate.rule_set;
}

}  // namespace

int RunReport(const std::string& path, const std::string& from,
              const std::string& to, bool comments,
              const std::string& candidate_dir) {
  web::ReportOptions options;
  options.store_path = path;
  options.comments = comments;
  if (!candidate_dir.empty()) {
    options.candidate = LoadCandidate(candidate_dir);
    if (options.candidate == nullptr) return 2;
  }
  options.last_day = DayOf(absl::ToUnixMicros(absl::Now()));
  options.first_day = options.last_day - 29;
  if ((!to.empty() && !ReadDay(to, "--to", options.last_day)) ||
      (!from.empty() && !ReadDay(from, "--from", options.first_day))) {
    return 2;
  }
  if (from.empty() && !to.empty()) options.first_day = options.last_day - 29;
  if (options.first_day > options.last_day ||
      options.last_day - options.first_day >= 5 * 366) {
    std::cerr << "reconnect: --from must be on or before --to, and the period "
                 "at most five years\n";
    return 2;
  }
  absl::StatusOr<std::string> html = web::GovernanceReport(options);
  if (!html.ok()) {
    std::cerr << "reconnect: " << html.status().message() << "\n";
    return 2;
  }
  std::cout << *html;
  return std::cout.good() ? 0 : 2;
}

int RunReplay(const std::string& path, const std::string& decision_id) {
  auto reader = AuditReader::Open(path);
  if (!reader.ok()) {
    std::cerr << "reconnect: " << reader.status().message() << "\n";
    return 2;
  }
  Replayer replayer(**reader);
  if (!decision_id.empty()) {
    auto r = replayer.Replay(decision_id);
    if (!r.ok()) {
      std::cerr << "reconnect: " << r.status().message() << "\n";
      return 2;
    }
    PrintReplayResult(*r);
    return r->identical ? 0 : 1;
  }
  // Every decision, in pages, with progress on stderr.
  int64_t after = 0, total = 0, differ = 0;
  while (true) {
    auto page = (*reader)->ListDecisionIds(after, 1000);
    if (!page.ok()) {
      std::cerr << "reconnect: " << page.status().message() << "\n";
      return 2;
    }
    if (page->empty()) break;
    for (const auto& [sequence, id] : *page) {
      auto r = replayer.Replay(id);
      if (!r.ok()) {
        std::cerr << "reconnect: " << r.status().message() << "\n";
        return 2;
      }
      ++total;
      if (!r->identical) {
        ++differ;
        PrintReplayResult(*r);
      }
      after = sequence;
    }
    std::cerr << "replayed " << total << " decision(s)\n";
  }
  return PrintReplaySummary(total, differ);
}

int RunDiff(const std::string& from, const std::string& to,
            const std::string& store) {
  std::unique_ptr<AuditReader> reader;
  if (!store.empty()) {
    auto opened = AuditReader::Open(store);
    if (!opened.ok()) {
      std::cerr << "reconnect: " << opened.status().message() << "\n";
      return 2;
    }
    reader = *std::move(opened);
  }
  // One side's canonical content: a digest in the store, or a directory.
  auto content = [&](const std::string& side) -> absl::StatusOr<std::string> {
    if (reader) return reader->GetRuleSetContent(side);
    ruleset::LoadResult loaded = ruleset::LoadRuleSet(side);
    if (!loaded.rule_set) {
      std::string why = loaded.issues.empty()
                            ? "cannot be loaded"
                            : loaded.issues.front().ToString();
      return absl::InvalidArgumentError(
          absl::StrCat(why, " (", loaded.issues.size(),
                       " problem(s); see reconnect lint ", side, ")"));
    }
    return loaded.rule_set->canonical_content();
  };
  auto a = content(from);
  auto b = a.ok() ? content(to) : a;
  if (!a.ok() || !b.ok()) {
    std::cerr << "reconnect: " << (a.ok() ? b : a).status().message() << "\n";
    return 2;
  }
  auto diff = ruleset::DiffRuleSets(*a, *b);
  if (!diff.ok()) {
    std::cerr << "reconnect: " << diff.status().message() << "\n";
    return 2;
  }
  return PrintDiff(*diff);
}

int RunImpact(const std::string& store, const std::string& candidate_dir,
              const ImpactOptions& options) {
  DecisionQuery query;
  if (!ParseTimeRange(options.from, options.to, query)) return 2;
  query.calling_system = options.calling_system;
  const std::shared_ptr<const ruleset::CompiledRuleSet> candidate =
      LoadCandidate(candidate_dir);
  if (candidate == nullptr) return 2;
  auto reader = AuditReader::Open(store);
  if (!reader.ok()) {
    std::cerr << "reconnect: " << reader.status().message() << "\n";
    return 2;
  }
  auto report = AnalyzeImpact(
      **reader, *candidate, query, options.max_examples, [](int64_t done) {
        std::cerr << "evaluated " << done << " decision(s)\n";
        return true;
      });
  if (!report.ok()) {
    std::cerr << "reconnect: " << report.status().message() << "\n";
    return 2;
  }
  const auto& meta = candidate->metadata();
  PrintImpact(
      absl::StrCat(meta.id, " ", meta.version, " (", candidate->digest(), ")"),
      *report);
  return 0;
}

}  // namespace reconnect::service
