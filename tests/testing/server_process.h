#ifndef RECONNECT_TESTS_TESTING_SERVER_PROCESS_H_
#define RECONNECT_TESTS_TESTING_SERVER_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace reconnect::testing_util {

// The arguments of `reconnect serve` on the bundled rule set and a free
// loopback port, then `flags` (a later flag overrides an earlier one).
inline std::vector<std::string> ServeBundled(
    const std::vector<std::string>& flags = {}) {
  std::vector<std::string> args = {
      RECONNECT_BINARY, "serve",
      "--rules",        std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect",
      "--listen",       "127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  return args;
}

// Runs `reconnect serve` as a child process on a free loopback port and
// reads its structured log lines from stderr.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }

  // Reads log lines until one has "event" == `event`, or the timeout passes.
  std::optional<nlohmann::json> WaitForEvent(
      const std::string& event, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string line;
      if (!ReadLine(line, deadline)) return std::nullopt;
      lines_.push_back(line);
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.value("event", "") == event) return j;
    }
    return std::nullopt;
  }

  // Sends `sig` and waits for the exit status (-1 on timeout).
  int Stop(int sig, std::chrono::milliseconds timeout) {
    kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        std::string line;
        while (ReadLine(line, std::chrono::steady_clock::now() +
                                  std::chrono::milliseconds(200))) {
          lines_.push_back(line);
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      // Keep reading its log while it stops: a full pipe would block its
      // writes, and so its exit.
      std::string line;
      if (ReadLine(line, std::chrono::steady_clock::now() +
                             std::chrono::milliseconds(10))) {
        lines_.push_back(line);
      }
    }
    return -1;
  }

  const std::vector<std::string>& lines() const { return lines_; }
  pid_t pid() const { return pid_; }

 private:
  bool ReadLine(std::string& line,
                std::chrono::steady_clock::time_point deadline) {
    while (true) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      const ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return false;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string buffer_;
  std::vector<std::string> lines_;
};

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_SERVER_PROCESS_H_
