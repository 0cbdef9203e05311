// `reconnect lint` and `reconnect test`: checking a rule set, or every
// version under a versions directory.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/ruleset/rule_set.h"
#include "service/cli/rule_set_commands.h"
#include "service/cli/rule_set_loading.h"
#include "service/cli/sign_off_commands.h"
#include "service/common/today.h"

namespace reconnect::service {

namespace {

// `today` decides which review dates are past.
int LintOne(const std::string& dir, const std::string& today) {
  ruleset::LoadResult loaded = LoadReportingIssues(dir);
  if (!loaded.rule_set) return 1;
  const auto& rs = *loaded.rule_set;
  for (auto& due : ruleset::ReviewsDue(rs, today)) {
    loaded.warnings.push_back(std::move(due));
  }
  // A hazard log's proofs are test cases, so they are run here too.
  if (rs.hazards() != nullptr) {
    const std::vector<ruleset::RuleSetIssue> proofs =
        ruleset::CheckHazardTests(rs, ruleset::RunRuleSetTests(dir, rs));
    for (const auto& issue : proofs) {
      std::cerr << dir << "/" << issue.ToString() << "\n";
    }
    if (!proofs.empty()) return 1;
  }
  // A signed version's signatures must cover this digest and be its
  // approvers'; the keys are verify-signatures' and the server's to check.
  const std::vector<ruleset::RuleSetIssue> sign_off =
      SignOffLintIssues(dir, rs);
  for (const auto& issue : sign_off) {
    std::cerr << dir << "/" << issue.ToString() << "\n";
  }
  if (!sign_off.empty()) return 1;
  for (const auto& warning : loaded.warnings) {
    std::cerr << dir << "/" << warning.ToString() << " (warning)\n";
  }
  std::cout << dir << ": ok: " << rs.metadata().id << " "
            << rs.metadata().version << ", " << rs.rule_count()
            << " rules, digest " << rs.digest();
  if (!loaded.warnings.empty()) {
    std::cout << ", " << loaded.warnings.size() << " warning(s)";
  }
  std::cout << "\n";
  return 0;
}

int TestOne(const std::string& dir, double min_coverage_percent) {
  auto rs = LoadOrReport(dir);
  if (!rs) return 1;
  ruleset::TestReport report = ruleset::RunRuleSetTests(dir, *rs);
  for (auto& issue : ruleset::CheckHazardTests(*rs, report)) {
    report.issues.push_back(std::move(issue));
  }
  std::cout << dir << ": " << rs->metadata().id << " " << rs->metadata().version
            << "\n";
  for (const auto& issue : report.issues)
    std::cout << dir << "/" << issue.ToString() << "\n";
  for (const auto& c : report.cases) {
    if (c.failures.empty()) {
      std::cout << "PASS " << c.file << ": " << c.name << "\n";
    } else {
      std::cout << "FAIL " << c.file << ": " << c.name << "\n";
      for (const auto& f : c.failures) std::cout << "    " << f << "\n";
    }
  }
  const size_t covered = report.rules_total - report.rules_never_fired.size();
  const double percent =
      report.rules_total == 0
          ? 100.0
          : 100.0 * static_cast<double>(covered) / report.rules_total;
  std::cout << "rule coverage: " << covered << "/" << report.rules_total
            << " rules fired (" << absl::StrCat(static_cast<int>(percent))
            << "%)\n";
  for (const auto& id : report.rules_never_fired)
    std::cout << "    never fired: " << id << "\n";
  std::cout << "reasons checked: "
            << report.rules_total - report.reasons_never_checked.size() << "/"
            << report.rules_total << " rules (expect_reason)\n";
  for (const auto& id : report.reasons_never_checked)
    std::cout << "    reason never checked: " << id << "\n";
  std::cout << report.passed() << " passed, " << report.failed() << " failed\n";
  if (percent < min_coverage_percent) {
    std::cout << "coverage " << percent << "% is below the required "
              << min_coverage_percent << "%\n";
    return 1;
  }
  return report.failed() == 0 && report.issues.empty() && !report.cases.empty()
             ? 0
             : 1;
}

int HazardsOne(const std::string& dir) {
  auto rs = LoadOrReport(dir);
  if (!rs) return 1;
  std::cout << dir << ": " << rs->metadata().id << " " << rs->metadata().version
            << ", digest " << rs->digest() << "\n";
  if (rs->hazards() == nullptr) {
    std::cout << "no hazard log (hazards.json)\n";
    return 1;
  }
  const ruleset::TestReport report = ruleset::RunRuleSetTests(dir, *rs);
  int unproven = 0;
  for (const ruleset::Hazard& h : *rs->hazards()) {
    std::cout << "\n"
              << h.id << "  " << h.title << "\n"
              << "  cause:        " << h.cause << "\n"
              << "  effect:       " << h.effect << "\n"
              << "  severity:     " << h.severity << "\n"
              << "  likelihood:   " << h.likelihood << "\n"
              << "  risk rating:  " << h.risk << "\n"
              << "  mitigated by: " << absl::StrJoin(h.mitigated_by, ", ")
              << "\n";
    for (const std::string& name : h.tests) {
      std::string status = "MISSING";
      for (const auto& c : report.cases) {
        if (c.name != name) continue;
        status = c.failures.empty() ? "PASS" : "FAIL";
        if (!c.failures.empty()) break;
      }
      if (status != "PASS") ++unproven;
      std::cout << "  " << status << "  " << name << "\n";
    }
  }
  std::cout << "\n"
            << rs->hazards()->size() << " hazard(s), " << unproven
            << " proof(s) not holding\n";
  return unproven == 0 ? 0 : 1;
}

}  // namespace

int RunHazards(const std::string& dir) {
  int status = 0;
  for (const std::string& d : VersionDirs(dir)) status |= HazardsOne(d);
  return status;
}

int RunLint(const std::string& dir) {
  const absl::StatusOr<std::string> today = Today(absl::Now());
  if (!today.ok()) {
    std::cerr << "reconnect lint: " << today.status().message() << "\n";
    return 2;
  }
  int status = 0;
  for (const std::string& d : VersionDirs(dir)) status |= LintOne(d, *today);
  return status;
}

int RunTest(const std::string& dir, double min_coverage_percent) {
  int status = 0;
  for (const std::string& d : VersionDirs(dir)) {
    status |= TestOne(d, min_coverage_percent);
  }
  return status;
}

}  // namespace reconnect::service
