#include "service/cli/command_output.h"

#include <iostream>
#include <tuple>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace reconnect::service {

int PrintVerifyReport(const VerifyReport& report) {
  if (!report.ok()) {
    std::cout << "audit trail BROKEN";
    if (report.broken_sequence) {
      std::cout << " at record " << *report.broken_sequence;
    }
    std::cout << ": " << report.problem << "\n";
    return 1;
  }
  std::cout << "audit trail intact: " << report.records << " record(s); head "
            << report.head_sequence << " sha256:" << report.head_hash << "\n";
  if (report.feedback_records > 0) {
    std::cout << "feedback chain intact: " << report.feedback_records
              << " record(s); head sha256:" << report.feedback_head_hash
              << "\n";
  }
  return 0;
}

void PrintReplayResult(const ReplayResult& r) {
  if (r.identical) {
    std::cout << "decision " << r.decision_id << ": identical (rule set "
              << r.rule_set_digest << ")\n";
  } else {
    std::cout << "decision " << r.decision_id << ": DIFFERS (rule set "
              << r.rule_set_digest << "); recorded vs replayed:\n"
              << r.differences;
  }
}

int PrintReplaySummary(int64_t total, int64_t differ) {
  std::cout << "replayed " << total << " decision(s): " << total - differ
            << " identical, " << differ << " differ\n";
  return differ == 0 ? 0 : 1;
}

int PrintDiff(const ruleset::RuleSetDiff& diff) {
  if (diff.empty()) {
    std::cout << "no differences\n";
    return 0;
  }
  auto change = [](const ruleset::FieldChange& c, const char* indent) {
    std::cout << indent << c.path << ": "
              << (c.before.empty() ? "(absent)" : c.before) << " -> "
              << (c.after.empty() ? "(absent)" : c.after) << "\n";
  };
  for (const auto& id : diff.rules_added) std::cout << "+ rule " << id << "\n";
  for (const auto& id : diff.rules_removed)
    std::cout << "- rule " << id << "\n";
  for (const auto& rc : diff.rules_changed) {
    std::cout << "~ rule " << rc.rule_id << "\n";
    for (const auto& f : rc.fields) change(f, "    ");
  }
  for (const auto& c : diff.changes) change(c, "~ ");
  return 1;
}

void PrintImpact(const std::string& candidate, const ImpactReport& report) {
  std::cout << "candidate " << candidate << "\n"
            << "evaluated " << report.evaluated
            << " recorded decision(s): " << report.changed << " would change\n";
  for (const auto& item : report.items) {
    std::cout << item.kind << " " << item.code << ": +" << item.gained << " -"
              << item.lost << " (e.g. " << absl::StrJoin(item.examples, ", ")
              << ")\n";
  }
}

bool ParseTimeRange(const std::string& from, const std::string& to,
                    DecisionQuery& query) {
  for (const auto& [text, out, name] :
       {std::tuple{from, &query.start_micros, "--from"},
        std::tuple{to, &query.end_micros, "--to"}}) {
    if (text.empty()) continue;
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
      std::cerr << "reconnect: " << name << " '" << text
                << "' is not an RFC 3339 time: " << error << "\n";
      return false;
    }
    *out = absl::ToUnixMicros(t);
  }
  return true;
}

}  // namespace reconnect::service
