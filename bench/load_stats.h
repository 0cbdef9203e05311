#ifndef RECONNECT_BENCH_LOAD_STATS_H_
#define RECONNECT_BENCH_LOAD_STATS_H_

// What the load generators measure besides time: latency percentiles and
// the CPU time of the generator and of the server.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"

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

}  // namespace reconnect::bench

#endif  // RECONNECT_BENCH_LOAD_STATS_H_
