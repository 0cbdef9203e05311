#include "service/metrics/metrics_listener.h"

#include <exception>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

namespace reconnect::service {

absl::StatusOr<std::unique_ptr<MetricsListener>> MetricsListener::Start(
    const std::string& address, const ServiceMetrics& metrics) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen '", address,
                     "' is not host:port (e.g. 0.0.0.0:9464, or "
                     "127.0.0.1:0 for a free port)"));
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // One thread: a scraper asks every few seconds at most.
    exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on --metrics_listen ", address, ": ", e.what()));
  }
  for (const auto& c : metrics.collectables()) {
    exposer->RegisterCollectable(c);
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --metrics_listen ", address));
  }
  return std::unique_ptr<MetricsListener>(
      new MetricsListener(std::move(exposer), ports.front()));
}

MetricsListener::MetricsListener(std::unique_ptr<prometheus::Exposer> exposer,
                                 int port)
    : exposer_(std::move(exposer)), port_(port) {}

MetricsListener::~MetricsListener() = default;

}  // namespace reconnect::service
