#ifndef RECONNECT_TESTS_TESTING_SERVER_PROCESS_H_
#define RECONNECT_TESTS_TESTING_SERVER_PROCESS_H_

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace reconnect::testing_util {

// The arguments of `reconnect serve` on the bundled rule set and a free
// loopback port, then `flags` (a later flag overrides an earlier one).
inline std::vector<std::string> ServeBundled(
    const std::vector<std::string>& flags = {}) {
  std::vector<std::string> args = {
      RECONNECT_BINARY,
      "serve",
      "--rules",
      std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5",
      "--listen",
      "127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  return args;
}

// Runs `reconnect serve` as a child process on a free loopback port and
// reads its structured log lines from stderr. A thread reads them as they
// come, so that a server that logs a lot never blocks on a full pipe.
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
    reader_ = std::thread([this] { ReadUntilClosed(); });
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) close(fd_);
  }

  // From now on, WaitForEvent looks only at lines written after this call.
  void SkipLinesSoFar() {
    absl::MutexLock lock(&mu_);
    next_ = lines_.size();
  }

  // Waits for a log line, after the last one this returned, with "event" ==
  // `event`, up to `timeout`.
  std::optional<nlohmann::json> WaitForEvent(
      const std::string& event, std::chrono::milliseconds timeout) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
    while (true) {
      for (; next_ < lines_.size(); ++next_) {
        auto j = nlohmann::json::parse(lines_[next_], nullptr,
                                       /*allow_exceptions=*/false);
        if (j.is_object() && j.value("event", "") == event) {
          ++next_;
          return j;
        }
      }
      if (closed_) return std::nullopt;
      const size_t seen = lines_.size();
      auto more = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || lines_.size() > seen;
      };
      if (!mu_.AwaitWithDeadline(absl::Condition(&more), deadline)) {
        return std::nullopt;
      }
    }
  }

  // Sends `sig` and waits for the exit status (-1 on timeout); once it has
  // exited, every line it wrote is in lines().
  int Stop(int sig, std::chrono::milliseconds timeout) {
    kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        if (reader_.joinable()) reader_.join();
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  // The lines read so far.
  std::vector<std::string> lines() const {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  pid_t pid() const { return pid_; }

 private:
  void ReadUntilClosed() {
    std::string buffer;
    char buf[4096];
    while (true) {
      const ssize_t n = read(fd_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buffer.append(buf, static_cast<size_t>(n));
      std::vector<std::string> complete;
      for (size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
        complete.push_back(buffer.substr(0, nl));
        buffer.erase(0, nl + 1);
      }
      if (complete.empty()) continue;
      absl::MutexLock lock(&mu_);
      for (auto& line : complete) lines_.push_back(std::move(line));
    }
    absl::MutexLock lock(&mu_);
    if (!buffer.empty()) lines_.push_back(buffer);
    closed_ = true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::thread reader_;
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  // The first line WaitForEvent has not looked at.
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  // The pipe is at its end: the process and all it started have exited.
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_SERVER_PROCESS_H_
