#include "service/metrics/atomic_histogram.h"

#include <limits>
#include <utility>

namespace reconnect::service {

AtomicHistogram::AtomicHistogram(std::vector<int64_t> bounds, double unit)
    : bounds_(std::move(bounds)),
      unit_(unit),
      counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

prometheus::ClientMetric AtomicHistogram::Collect(
    std::vector<prometheus::ClientMetric::Label> labels) const {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    prometheus::ClientMetric::Bucket b;
    b.cumulative_count = cumulative;
    b.upper_bound = i < bounds_.size()
                        ? static_cast<double>(bounds_[i]) * unit_
                        : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back(b);
  }
  // Read apart from the buckets, so a scrape during a call may see the
  // count and the sum one observation apart; Prometheus tolerates that.
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum =
      static_cast<double>(sum_.load(std::memory_order_relaxed)) * unit_;
  return m;
}

}  // namespace reconnect::service
