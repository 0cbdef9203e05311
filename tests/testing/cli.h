#ifndef RECONNECT_TESTS_TESTING_CLI_H_
#define RECONNECT_TESTS_TESTING_CLI_H_

#include <stdio.h>
#include <sys/wait.h>

#include <string>
#include <utility>

namespace reconnect::testing_util {

// Runs `reconnect ARGS` (shell-quoted by the caller): its exit status and
// its output, stdout and stderr together.
inline std::pair<int, std::string> RunReconnect(const std::string& args) {
  const std::string cmd = std::string(RECONNECT_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), p)) out += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_CLI_H_
