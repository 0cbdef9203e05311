#ifndef RECONNECT_TESTS_TESTING_EXAMPLES_H_
#define RECONNECT_TESTS_TESTING_EXAMPLES_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.pb.h"

namespace reconnect::testing_util {

// An Evaluate request for examples/NAME (protobuf JSON), from
// `calling_system`.
inline v1::EvaluateRequest ExampleRequest(const std::string& name,
                                          const std::string& calling_system) {
  std::ifstream in(std::string(RECONNECT_SOURCE_DIR) + "/examples/" + name);
  std::stringstream json;
  json << in.rdbuf();
  v1::EvaluateRequest request;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                  json.str(), request.mutable_assessment())
                  .ok())
      << name;
  request.set_calling_system(calling_system);
  return request;
}

// The names of every assessment in examples/ (NAME.json), sorted: tests
// that run over all of them cover an example as soon as it is added.
inline std::vector<std::string> ExampleNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::string(RECONNECT_SOURCE_DIR) + "/examples")) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  EXPECT_GE(names.size(), 8u);
  return names;
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_EXAMPLES_H_
