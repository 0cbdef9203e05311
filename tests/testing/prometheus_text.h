#ifndef RECONNECT_TESTS_TESTING_PROMETHEUS_TEXT_H_
#define RECONNECT_TESTS_TESTING_PROMETHEUS_TEXT_H_

// Reads samples out of Prometheus's text exposition format, for tests that
// check what a scrape says.

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace reconnect::testing_util {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Every sample line of `text` (comments skipped). Label values are taken
// as written, with \" and \\ unescaped.
inline std::vector<PromSample> PromSamples(const std::string& text) {
  std::vector<PromSample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    PromSample s;
    size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (i != std::string::npos && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        std::string key = line.substr(i, eq - i);
        std::string value;
        size_t j = eq + 2;  // past ="
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) ++j;
          value += line[j];
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;
    }
    s.value = std::stod(line.substr(line.find_first_not_of(' ', i)));
    out.push_back(std::move(s));
  }
  return out;
}

// The sum of the samples named `name` whose labels include `labels`;
// nullopt when there is none.
inline std::optional<double> PromValue(
    const std::string& text, const std::string& name,
    const std::map<std::string, std::string>& labels = {}) {
  std::optional<double> sum;
  for (const PromSample& s : PromSamples(text)) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) sum = sum.value_or(0) + s.value;
  }
  return sum;
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_PROMETHEUS_TEXT_H_
