#ifndef RECONNECT_SERVICE_HTTP_CDS_FEEDBACK_H_
#define RECONNECT_SERVICE_HTTP_CDS_FEEDBACK_H_

// The body of a CDS Hooks 2.0 feedback request, checked and turned into the
// records the audit trail keeps. What a request can be checked for alone is
// checked here: the shape of each entry, and the spec's invariants
// (cds-fb-1: override reasons and accepted suggestions go with their own
// outcome; cds-fb-2: an accepted outcome names the suggestions accepted;
// cds-fb-3: an override reason has a coded reason, a comment, or both).
// Whether each card was issued by the service, and each suggestion is the
// card's, the audit store checks as it stores them.

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "service/http/http_message.h"

namespace reconnect::service::http {

// The longest free-text comment kept with an override.
inline constexpr size_t kMaxUserCommentBytes = 4096;
// The most entries one feedback request may hold.
inline constexpr size_t kMaxFeedbackEntries = 1000;

// The entries of `body` as records for `service` (caller and time left for
// the caller to fill in), or, in `issues`, everything wrong with it, each
// naming its path (e.g. "feedback[1].outcomeTimestamp").
std::vector<FeedbackRecord> ParseFeedback(const nlohmann::json& body,
                                          const std::string& service,
                                          std::vector<OutcomeIssue>& issues);

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_CDS_FEEDBACK_H_
