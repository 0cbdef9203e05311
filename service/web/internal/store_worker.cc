#include "service/web/internal/store_worker.h"

#include <utility>

namespace reconnect::service::web {

bool StoreWorker::Post(std::function<void()> work) {
  if (queued_.fetch_add(1) >= kMaxQueued) {
    --queued_;
    return false;
  }
  executor_.Post([this, work = std::move(work)] {
    --queued_;
    work();
  });
  return true;
}

absl::StatusOr<AuditReader*> StoreWorker::Reader() {
  if (!reader_) {
    auto opened = AuditReader::Open(path_);
    if (!opened.ok()) return opened.status();
    reader_ = *std::move(opened);
    replayer_ = std::make_unique<Replayer>(*reader_);
  }
  return reader_.get();
}

absl::StatusOr<std::shared_ptr<const ruleset::CompiledRuleSet>>
StoreWorker::RuleSet(const std::string& digest) {
  for (auto& rs : registry_.All()) {
    if (rs->digest() == digest) return rs;
  }
  if (absl::Status s = Reader().status(); !s.ok()) return s;
  return replayer_->RuleSet(digest);
}

}  // namespace reconnect::service::web
