#ifndef RECONNECT_SERVICE_HTTP_DECIDE_H_
#define RECONNECT_SERVICE_HTTP_DECIDE_H_

// What every HTTP interface that decides does once it has an assessment:
// evaluate it, record the decision in the audit store with the interface's
// context, and answer only once the record is committed.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "reconnect/v1/decision_support.pb.h"
#include "service/audit/audit_store.h"
#include "service/decision/decision_engine.h"
#include "service/http/http_message.h"
#include "service/http/http_server.h"
#include "service/security/call_limits.h"

namespace reconnect::service::http {

struct Decision {
  v1::EvaluateRequest request;  // the assessment and calling system
  std::string caller;           // the authenticated caller
  // The interface and request it came through ({"interface": ...}); the
  // cards issued are added under "cards".
  nlohmann::json context;
  std::string log_name;  // for the refusal's log line, e.g. the service id
};

// Makes the answer from the engine's response, adding any cards it issues
// to `issued` (for the card index).
using AnswerMaker = std::function<HttpResponse(
    const v1::EvaluateResponse& response, std::vector<IssuedCard>& issued)>;

// Evaluates `decision`; a refused assessment is answered 400 naming each
// field, an engine failure 503. Otherwise records it (when `audit` is not
// null) and answers `make`'s response once committed, or 503 when it could
// not be. `slot` is held until then.
void Decide(const DecisionEngine& engine, AuditStore* audit,
            const std::string& patient_ref_key, std::optional<CallSlot> slot,
            Decision decision, const AnswerMaker& make, Respond respond);

// The 503 for `what` ("the decision") when the audit store could not record
// it (`status`, logged): nothing unrecorded is answered.
HttpResponse NotRecorded(const absl::Status& status, std::string_view what);

// The 429 for a call beyond the limit of calls in flight.
HttpResponse Throttled();

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_DECIDE_H_
