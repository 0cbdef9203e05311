#ifndef RECONNECT_BENCH_LOAD_STATS_H_
#define RECONNECT_BENCH_LOAD_STATS_H_

// What the load generators measure besides time: latency percentiles and
// the CPU time of the generator and of the server.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "nlohmann/json.hpp"

namespace reconnect::bench {

// The `p`th percentile of `v` (reorders it).
inline double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i =
      std::min(v.size() - 1,
               static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

// User plus system CPU seconds of this process.
inline double OwnCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// User plus system CPU seconds of process `pid` (fields 14 and 15 of
// /proc/PID/stat, in clock ticks); negative when it cannot be read.
inline double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // The command name (field 2) may hold spaces; count fields after it.
  const size_t close = stat.rfind(')');
  if (!in || close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    double v = 0;
    if (i >= 14) {
      if (!absl::SimpleAtod(field, &v)) return -1;
      ticks += v;
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The measured window of a load run: how long it lasted, and the CPU time
// the generator and (when `server_pid` > 0) the server spent in it.
class Window {
 public:
  explicit Window(int server_pid)
      : server_pid_(server_pid),
        server_cpu_start_(server_pid > 0 ? ProcessCpuSeconds(server_pid) : -1),
        own_cpu_start_(OwnCpuSeconds()),
        start_(std::chrono::steady_clock::now()) {}

  void Stop() {
    seconds_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    own_cpu_ = OwnCpuSeconds() - own_cpu_start_;
    if (server_pid_ > 0) {
      server_cpu_ = ProcessCpuSeconds(server_pid_) - server_cpu_start_;
    }
  }

  // The report of a stopped window with the calls' `latencies_us` (of
  // successful calls) and `errors`: null when the server's CPU time could
  // not be read.
  nlohmann::json Report(std::vector<double> latencies_us,
                        int64_t errors) const {
    const double calls = static_cast<double>(latencies_us.size());
    nlohmann::json out = {
        {"calls", latencies_us.size()},
        {"errors", errors},
        {"seconds", seconds_},
        {"calls_per_second", calls / seconds_},
        {"p50_us", Percentile(latencies_us, 50)},
        {"p99_us", Percentile(latencies_us, 99)},
        {"generator_cpu_us_per_call", calls == 0 ? 0 : own_cpu_ * 1e6 / calls}};
    if (server_pid_ > 0) {
      if (server_cpu_start_ < 0 || server_cpu_ < 0) return nullptr;
      out["server_cpu_us_per_call"] =
          calls == 0 ? 0 : server_cpu_ * 1e6 / calls;
    }
    return out;
  }

 private:
  const int server_pid_;
  const double server_cpu_start_;
  const double own_cpu_start_;
  const std::chrono::steady_clock::time_point start_;
  double seconds_ = 0;
  double own_cpu_ = 0;
  double server_cpu_ = -1;
};

}  // namespace reconnect::bench

#endif  // RECONNECT_BENCH_LOAD_STATS_H_
