#include "service/commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/util/json_util.h"
#include "service/decision_engine.h"
#include "service/rule_set_registry.h"

namespace reconnect::service {

namespace {

constexpr size_t kMaxInputBytes = 4 << 20;

// Loads a rule set, printing its issues; null on failure.
std::shared_ptr<const ruleset::CompiledRuleSet> LoadOrReport(
    const std::string& dir) {
  ruleset::LoadResult loaded = ruleset::LoadRuleSet(dir);
  for (const auto& issue : loaded.issues) {
    std::cerr << dir << "/" << issue.ToString() << "\n";
  }
  if (!loaded.rule_set) {
    std::cerr << dir << ": " << loaded.issues.size()
              << " problem(s); rule set not loaded\n";
  }
  return loaded.rule_set;
}

bool ReadInput(const std::string& file, std::string& out) {
  std::istream* in = &std::cin;
  std::ifstream f;
  if (file != "-") {
    f.open(file, std::ios::binary);
    if (!f) {
      std::cerr << file << ": cannot open file\n";
      return false;
    }
    in = &f;
  }
  std::ostringstream buf;
  char chunk[65536];
  while (in->read(chunk, sizeof(chunk)) || in->gcount() > 0) {
    buf.write(chunk, in->gcount());
    if (static_cast<size_t>(buf.tellp()) > kMaxInputBytes) {
      std::cerr << file << ": input is larger than " << kMaxInputBytes
                << " bytes\n";
      return false;
    }
  }
  out = buf.str();
  return true;
}

}  // namespace

int RunLint(const std::string& dir) {
  auto rs = LoadOrReport(dir);
  if (!rs) return 1;
  std::cout << dir << ": ok: " << rs->metadata().id << " "
            << rs->metadata().version << ", " << rs->rule_count()
            << " rules, digest " << rs->digest() << "\n";
  return 0;
}

int RunTest(const std::string& dir, double min_coverage_percent) {
  auto rs = LoadOrReport(dir);
  if (!rs) return 1;
  ruleset::TestReport report = ruleset::RunRuleSetTests(dir, *rs);
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

int RunEval(const std::string& dir, const std::string& file) {
  std::string input;
  if (!ReadInput(file, input)) return 1;
  v1::EvaluateRequest request;
  request.set_calling_system("reconnect-eval");
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      input, request.mutable_assessment());
  if (!parsed.ok()) {
    std::cerr << file
              << ": not a valid reconnect.v1.Assessment in protobuf JSON: "
              << parsed.message() << "\n";
    return 1;
  }
  auto rs = LoadOrReport(dir);
  if (!rs) return 1;
  RuleSetRegistry registry;
  registry.Add(rs, /*activate=*/true);
  DecisionEngine engine(registry);
  std::vector<FieldViolation> violations;
  v1::EvaluateResponse response;
  const absl::Status status = engine.Evaluate(request, response, violations);
  if (!status.ok()) {
    std::cerr << file << ": " << status.message() << "\n";
    for (const auto& v : violations)
      std::cerr << file << ": " << v.field << ": " << v.description << "\n";
    return 1;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(response, &json, options)
           .ok()) {
    std::cerr << "cannot print the response as JSON\n";
    return 1;
  }
  std::cout << json;
  return 0;
}

}  // namespace reconnect::service
