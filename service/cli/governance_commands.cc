#include "service/cli/governance_commands.h"

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/diff.h"
#include "engine/ruleset/rule_set.h"
#include "service/audit/audit_store.h"
#include "service/audit/impact.h"
#include "service/audit/replay.h"
#include "service/cli/command_output.h"

namespace reconnect::service {

int RunAuditVerify(const std::string& path) {
  auto report = VerifyAuditTrail(path);
  if (!report.ok()) {
    std::cerr << "reconnect: " << report.status().message() << "\n";
    return 2;
  }
  return PrintVerifyReport(*report);
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
  ruleset::LoadResult candidate = ruleset::LoadRuleSet(candidate_dir);
  if (!candidate.rule_set) {
    std::cerr << "reconnect: the candidate does not load: "
              << (candidate.issues.empty() ? candidate_dir
                                           : candidate.issues[0].ToString())
              << " (" << candidate.issues.size()
              << " problem(s); see reconnect lint)\n";
    return 2;
  }
  auto reader = AuditReader::Open(store);
  if (!reader.ok()) {
    std::cerr << "reconnect: " << reader.status().message() << "\n";
    return 2;
  }
  auto report = AnalyzeImpact(**reader, *candidate.rule_set, query,
                              options.max_examples, [](int64_t done) {
                                std::cerr << "evaluated " << done
                                          << " decision(s)\n";
                                return true;
                              });
  if (!report.ok()) {
    std::cerr << "reconnect: " << report.status().message() << "\n";
    return 2;
  }
  const auto& meta = candidate.rule_set->metadata();
  PrintImpact(absl::StrCat(meta.id, " ", meta.version, " (",
                           candidate.rule_set->digest(), ")"),
              *report);
  return 0;
}

}  // namespace reconnect::service
