#ifndef RECONNECT_TESTS_TESTING_FILES_H_
#define RECONNECT_TESTS_TESTING_FILES_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace reconnect::testing_util {

// Replaces each `from` with its `to` in `file`; each `from` must be there.
inline void EditFile(
    const std::filesystem::path& file,
    const std::vector<std::pair<std::string, std::string>>& changes) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  in.close();
  std::string text = s.str();
  for (const auto& [from, to] : changes) {
    ASSERT_NE(text.find(from), std::string::npos) << file << ": " << from;
    text = absl::StrReplaceAll(text, {{from, to}});
  }
  std::ofstream(file, std::ios::trunc) << text;
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_FILES_H_
