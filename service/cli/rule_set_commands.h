#ifndef RECONNECT_SERVICE_CLI_RULE_SET_COMMANDS_H_
#define RECONNECT_SERVICE_CLI_RULE_SET_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace reconnect::service {

// The `reconnect` subcommands that work on a rule-set directory. Each
// returns the process exit code: 0 on success, 1 when the input or the rule
// set has problems (all reported), 2 on a usage error.

// Loads and checks a rule set, or each version under `dir`; prints every
// issue and warning as file:line:col.
int RunLint(const std::string& dir);

// Runs a rule set's own test cases (each version's, under a versions
// directory) and prints rule coverage and which rules' reasons no case
// checks. Fails when a case fails or coverage is below
// `min_coverage_percent`.
int RunTest(const std::string& dir, double min_coverage_percent);

// Prints the hazard log of a rule set (each version's, under a versions
// directory): each hazard's cause, effect, rating, mitigating rules and
// the status of the test cases that prove them. Fails when a version has
// no hazard log, or a proof does not hold.
int RunHazards(const std::string& dir);

// Evaluates one assessment (protobuf JSON, from `file` or "-" for stdin)
// and prints the response as JSON.
int RunEval(const std::string& dir, const std::string& file);

// Evaluates one assessment like RunEval and prints the plan: with `fhir`,
// as a FHIR R4 Bundle (CarePlan, RequestGroup, ServiceRequests,
// CommunicationRequests, GuidanceResponse); otherwise in Markdown, for a
// person.
int RunPlan(const std::string& dir, const std::string& file, bool fhir);

// Evaluates one assessment like RunEval and says, for a person, why each
// rule that did not fire did not: the deciding clause of its condition with
// the values it read, or the rules that held it back; then which absent
// facts could change the plan (spending at most about `missing_data_budget`
// of CEL cost on it). With `rule_id`, that rule only.
int RunExplain(const std::string& dir, const std::string& file,
               const std::string& rule_id, int64_t missing_data_budget);

// Evaluates one CEL expression and prints "type: value" (or the error with
// its position). With `rules_dir`, the expression sees the rule set's
// params, defs and an `assessment` read from `assessment_file`.
// `variables` are NAME=JSON pairs.
int RunExpr(const std::string& expression,
            const std::vector<std::string>& variables,
            const std::string& rules_dir, const std::string& assessment_file);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_RULE_SET_COMMANDS_H_
