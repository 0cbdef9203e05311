#ifndef RECONNECT_SERVICE_METRICS_ATOMIC_HISTOGRAM_H_
#define RECONNECT_SERVICE_METRICS_ATOMIC_HISTOGRAM_H_

// A histogram of fixed buckets kept in relaxed atomic integers, for the
// request path: observing takes no lock and retries no compare-and-swap
// (prometheus-cpp's own histogram takes a mutex on every observation, and
// its counters add doubles by compare-and-swap, which two cores serving
// calls at once contend on). Values are integers in `unit`s (nanoseconds
// for times), so that the sum is exact.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "prometheus/client_metric.h"

namespace reconnect::service {

class AtomicHistogram {
 public:
  // `bounds`: the buckets' upper bounds in `unit`s, increasing; `unit` is
  // what one integer step is worth in the exposed value (1e-9 for
  // nanoseconds exposed as seconds).
  AtomicHistogram(std::vector<int64_t> bounds, double unit);

  void Observe(int64_t value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  // As Prometheus exposes it: cumulative buckets, the last one +Inf.
  prometheus::ClientMetric Collect(
      std::vector<prometheus::ClientMetric::Label> labels) const;

 private:
  const std::vector<int64_t> bounds_;
  const double unit_;
  // One per bound, and one past the last (+Inf).
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<int64_t> sum_{0};
};

// A counter for the request path: a relaxed atomic integer.
using AtomicCounter = std::atomic<uint64_t>;

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_METRICS_ATOMIC_HISTOGRAM_H_
