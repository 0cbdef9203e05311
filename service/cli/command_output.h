#ifndef RECONNECT_SERVICE_CLI_COMMAND_OUTPUT_H_
#define RECONNECT_SERVICE_CLI_COMMAND_OUTPUT_H_

// What the governance commands print, shared by their store-file and
// running-server forms so that both read the same.

#include <string>

#include "engine/ruleset/diff.h"
#include "service/audit/audit_store.h"
#include "service/audit/impact.h"
#include "service/audit/replay.h"

namespace reconnect::service {

// Each returns the command's exit status where it decides it.
int PrintVerifyReport(const VerifyReport& report);
void PrintReplayResult(const ReplayResult& r);
int PrintReplaySummary(int64_t total, int64_t differ);
int PrintDiff(const ruleset::RuleSetDiff& diff);
void PrintImpact(const std::string& candidate, const ImpactReport& report);
// --from and --to into `query`; false, with the reason on stderr, when
// either is not an RFC 3339 time.
bool ParseTimeRange(const std::string& from, const std::string& to,
                    DecisionQuery& query);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_COMMAND_OUTPUT_H_
