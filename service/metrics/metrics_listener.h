#ifndef RECONNECT_SERVICE_METRICS_METRICS_LISTENER_H_
#define RECONNECT_SERVICE_METRICS_METRICS_LISTENER_H_

// The plaintext HTTP listener that serves /metrics to a Prometheus scraper,
// apart from the service's own listeners so that scraping needs no client
// certificate or token: it serves the metrics and nothing else.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/metrics/service_metrics.h"

namespace prometheus {
class Exposer;
}

namespace reconnect::service {

class MetricsListener {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) and serves
  // `metrics` at /metrics. INVALID_ARGUMENT for an address that is not
  // host:port; UNAVAILABLE when it cannot listen. `metrics` must outlive
  // the listener.
  static absl::StatusOr<std::unique_ptr<MetricsListener>> Start(
      const std::string& address, const ServiceMetrics& metrics);
  ~MetricsListener();

  // The port it listens on.
  int port() const { return port_; }

 private:
  MetricsListener(std::unique_ptr<prometheus::Exposer> exposer, int port);

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_METRICS_METRICS_LISTENER_H_
