#ifndef RECONNECT_SERVICE_CLI_GOVERNANCE_COMMANDS_H_
#define RECONNECT_SERVICE_CLI_GOVERNANCE_COMMANDS_H_

#include <string>

namespace reconnect::service {

// The governance subcommands over an audit store file. Each returns the
// process exit code.

// `reconnect audit verify FILE`: checks the audit trail in a store file.
// Exit status 0 when intact, 1 when broken, 2 when it cannot be read.
int RunAuditVerify(const std::string& path);

// `reconnect audit copy FILE URI`: copies the trail in a SQLite store into
// an empty PostgreSQL store and verifies it there (audit/copy.h). Exit
// status 0 when it arrived intact, 1 when it arrived otherwise, 2 when it
// could not be copied (nothing was).
int RunAuditCopy(const std::string& from, const std::string& to);

// `reconnect report FILE [--from DATE] [--to DATE] [--comments]
// [--candidate DIR]`: the governance console's content for the period (the
// last 30 days by default) as one self-contained HTML file on standard
// output; with the candidate's impact over the period when one is given.
int RunReport(const std::string& path, const std::string& from,
              const std::string& to, bool comments,
              const std::string& candidate_dir);

// `reconnect diff FROM TO [--store FILE]`: what changed between two rule-set
// versions, given as directories or, with a store, as digests. Exit status
// 0 when they are the same, 1 when they differ, 2 on errors.
int RunDiff(const std::string& from, const std::string& to,
            const std::string& store);

// `reconnect impact STORE CANDIDATE_DIR [--from T] [--to T]
// [--calling_system S]`: evaluates a candidate rule set over the decisions
// recorded in [from, to) and reports how many would change and, per
// technique, prompt and alert, how many would gain or lose it, with example
// decision ids. Progress goes to stderr. Exit status 0, or 2 on errors.
struct ImpactOptions {
  std::string from;  // RFC 3339; empty: open
  std::string to;
  std::string calling_system;
  int max_examples = 3;
};
int RunImpact(const std::string& store, const std::string& candidate_dir,
              const ImpactOptions& options);

// `reconnect replay FILE [DECISION_ID]`: re-evaluates one recorded decision,
// or every one, with the rule set that made it, and reports whether the
// output is identical or exactly what differs. Exit status 0 when all are
// identical, 1 when any differs, 2 on errors.
int RunReplay(const std::string& path, const std::string& decision_id);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_GOVERNANCE_COMMANDS_H_
