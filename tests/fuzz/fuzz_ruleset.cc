// libFuzzer target: the rule-set loader on mutated rule files. A copy of the
// bundled rule set lives in a temporary directory; each input replaces one
// of its files. The input's first line names the file (a name the set does
// not have picks one by hash), and the rest is its new content. A set that
// loads then runs its own test cases and evaluates an assessment.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ruleset/rule_set.h"
#include "google/protobuf/util/json_util.h"
#include "reconnect/v1/assessment.pb.h"

namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const fs::path& p, std::string_view content) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(content.data(), static_cast<std::streamsize>(content.size()));
}

struct Base {
  fs::path dir;
  std::vector<std::string> files;  // relative paths, sorted
  std::vector<std::string> contents;
  reconnect::v1::Assessment assessment;
};

const Base& GetBase() {
  static const Base* base = [] {
    auto* b = new Base;
    const fs::path source =
        fs::path(RECONNECT_SOURCE_DIR) / "rules/reconnect/1.1.0";
    b->dir = fs::temp_directory_path() /
             ("reconnect-fuzz-ruleset-" + std::to_string(::getpid()));
    fs::remove_all(b->dir);
    fs::copy(source, b->dir, fs::copy_options::recursive);
    for (const auto& e : fs::recursive_directory_iterator(b->dir)) {
      if (e.is_regular_file()) {
        b->files.push_back(fs::relative(e.path(), b->dir).string());
      }
    }
    std::sort(b->files.begin(), b->files.end());
    for (const auto& f : b->files) b->contents.push_back(Slurp(b->dir / f));
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        Slurp(fs::path(RECONNECT_SOURCE_DIR) /
              "examples/catastrophising-performance-beliefs.json"),
        &b->assessment);
    if (!parsed.ok() || b->files.empty()) {
      std::fprintf(stderr, "fuzz_ruleset: cannot read the bundled rule set\n");
      std::abort();
    }
    std::atexit([] { fs::remove_all(GetBase().dir); });
    return b;
  }();
  return *base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Base& base = GetBase();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  const std::string_view name = input.substr(0, eol);
  const std::string_view content = eol == std::string_view::npos
                                       ? std::string_view()
                                       : input.substr(eol + 1);
  auto it = std::find(base.files.begin(), base.files.end(), name);
  const size_t index =
      it != base.files.end()
          ? static_cast<size_t>(it - base.files.begin())
          : std::hash<std::string_view>()(name) % base.files.size();
  const fs::path file = base.dir / base.files[index];
  Spit(file, content);

  const reconnect::ruleset::LoadResult loaded =
      reconnect::ruleset::LoadRuleSet(base.dir);
  if (loaded.rule_set == nullptr && loaded.issues.empty()) {
    std::fprintf(stderr, "refused without an issue\n");
    std::abort();
  }
  for (const auto& issue : loaded.issues) {
    if (issue.message.empty()) {
      std::fprintf(stderr, "issue without a message: %s\n",
                   issue.ToString().c_str());
      std::abort();
    }
  }
  if (loaded.rule_set != nullptr) {
    reconnect::ruleset::RunRuleSetTests(base.dir, *loaded.rule_set);
    if (loaded.rule_set->input_type() ==
        reconnect::v1::Assessment::descriptor()->full_name()) {
      reconnect::v1::Recommendation out;
      loaded.rule_set->ValidateInput(base.assessment);
      loaded.rule_set->Evaluate(base.assessment, out, nullptr);
      // Explained: why not, and the missing data.
      google::protobuf::RepeatedPtrField<reconnect::v1::RuleExplanation>
          why_not;
      reconnect::v1::MissingData missing;
      reconnect::ruleset::CompiledRuleSet::Explain explain;
      explain.why_not = &why_not;
      explain.missing_data = &missing;
      reconnect::v1::Recommendation explained;
      loaded.rule_set->Evaluate(base.assessment, explained, nullptr, &explain);
    }
  }
  Spit(file, base.contents[index]);
  return 0;
}
