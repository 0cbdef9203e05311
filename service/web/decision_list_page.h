#ifndef RECONNECT_SERVICE_WEB_DECISION_LIST_PAGE_H_
#define RECONNECT_SERVICE_WEB_DECISION_LIST_PAGE_H_

// Decisions as a list to pick from: the MDT's search of recent decisions,
// and one patient's decisions over time.

#include <map>
#include <string>
#include <vector>

#include "service/audit/audit_store.h"

namespace reconnect::service::web {

struct DecisionListView {
  std::string heading;
  // The search as asked (shown back in the form); no form when
  // `patient` is set.
  std::string from, to, system;
  bool patient = false;
  std::vector<DecisionRecord> decisions;  // newest first
  // Rule-set digest -> "id version".
  std::map<std::string, std::string> rule_sets;
  // The link to the next (older) page; empty when there is none.
  std::string older_url;
};

std::string DecisionListPage(const DecisionListView& view);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_DECISION_LIST_PAGE_H_
