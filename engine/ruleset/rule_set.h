#ifndef RECONNECT_ENGINE_RULESET_RULE_SET_H_
#define RECONNECT_ENGINE_RULESET_RULE_SET_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/cel/common/value.h"
#include "engine/cel/runtime/options.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/recommendation.pb.h"

namespace reconnect::ruleset {

// A rule author's mistake: what is wrong and where. Issues are data; a load
// collects all of them so that an author sees every problem at once.
struct RuleSetIssue {
  std::string file;  // relative to the rule-set directory
  int line = 0;      // 1-based; 0 when not known
  int column = 0;
  std::string rule_id;  // empty when not inside a rule
  std::string message;
  // What kind of problem it is, stable across releases (issue_codes.h).
  std::string code;

  // "file:line:col: rule 'id': message [RS201]"
  std::string ToString() const;
};

struct RuleSetMetadata {
  std::string id;
  std::string version;
  std::string status;  // draft, active or retired
  std::string effective_date;
  std::string title;
  std::vector<std::string> authors;
  std::vector<std::string> approvers;
  // When the version is next due for clinical review (YYYY-MM-DD); empty
  // when not set. Past it, the version still serves: the date is for
  // people to see and act on.
  std::string review_by;
};

// One clinical hazard of the rule set's hazard log (hazards.json), as a
// clinical safety officer files it (DCB0129): what could go wrong, how
// likely and how bad, the rules that mitigate it and the test cases that
// prove they do.
struct Hazard {
  std::string id;
  std::string title;
  std::string cause;
  std::string effect;
  std::string severity;                   // one of the risk matrix's severities
  std::string likelihood;                 // one of its likelihoods
  int risk = 0;                           // the matrix's rating for the two
  std::vector<std::string> mitigated_by;  // rule ids
  std::vector<std::string> tests;         // test case names
  int line = 0;                           // in hazards.json
};

struct LoadOptions {
  cel::Limits limits;
  // Largest rule-set file accepted, in bytes.
  int64_t max_file_bytes = 4 << 20;
};

// How one coded FHIR fact sets one input field (fhir_mapping.json, checked
// and resolved at load). The engine checks that the field exists and that
// every value fits it; reading FHIR is the interfaces' work.
struct FhirFieldMapping {
  // An Observation's code as "system|code", or a QuestionnaireResponse
  // item's linkId.
  std::string key;
  // The input field as written ("scores.phq9_total"), and resolved: the
  // singular message fields to it, then the field itself (singular int,
  // double, bool, string or enum, or a repeated enum, which gathers).
  std::string field;
  std::vector<const google::protobuf::FieldDescriptor*> path;
  // What the fact is called for people ("PHQ-9 total"), e.g. when missing.
  std::string label;
  // Coded answers, "system|code" (or "code" for a questionnaire's own
  // codes) to the field's value: an enum's number, an integer, a double or
  // a bool, as the field's type needs. Empty: the value is read as given.
  std::map<std::string, nlohmann::json> answers;
};

// One field of a list element set to one value (resolved and fitted: an
// enum's number, an integer, a double, a bool or text).
struct FhirElementValue {
  const google::protobuf::FieldDescriptor* field = nullptr;
  nlohmann::json value;
};

// A code of a resource that gives the element made from it values: an
// exact "system|code", or a prefix of one for hierarchical systems (ATC
// "http://www.whocc.no/atc|N02A" covers every N02A code).
struct FhirElementCode {
  std::string code;
  bool prefix = false;
  std::string label;
  std::vector<FhirElementValue> set;
};

// A QuestionnaireResponse item whose answers point at resources (a
// valueReference) and set values on the elements made from them.
struct FhirElementFlag {
  std::string link_id;
  std::string label;
  std::vector<FhirElementValue> set;
};

// Resources that each become one element of a repeated message field
// (MedicationRequests, one per medicine): the element's text field takes
// the resource's text, the first code entry that matches (in the order
// written) sets its values, else `otherwise` does.
struct FhirListMapping {
  // The repeated message field as written ("medicines") and resolved: the
  // singular message fields to it, then the list itself.
  std::string field;
  std::vector<const google::protobuf::FieldDescriptor*> path;
  // A singular text field of the element for the resource's name, or null.
  const google::protobuf::FieldDescriptor* text = nullptr;
  std::string label;
  std::vector<FhirElementCode> codes;
  std::vector<FhirElementValue> otherwise;
  std::vector<FhirElementFlag> flags;
  bool empty() const { return path.empty(); }
};

struct FhirMapping {
  // The canonical URL of the Questionnaire whose responses are read.
  std::string questionnaire;
  std::vector<FhirFieldMapping> observations;
  std::vector<FhirFieldMapping> questionnaire_items;
  // Codes whose presence sets a field to a value: a Condition's code, a
  // CareTeam participant's role. `answers` holds the one code (the key)
  // and the value it sets; the field may also be a list of text, which
  // gathers (e.g. a care team's disciplines).
  std::vector<FhirFieldMapping> conditions;
  std::vector<FhirFieldMapping> care_team_roles;
  // Active MedicationRequests, each an element of a list field.
  FhirListMapping medication_requests;
  bool empty() const {
    return observations.empty() && questionnaire_items.empty() &&
           conditions.empty() && care_team_roles.empty() &&
           medication_requests.empty();
  }
};

// A field-level problem with one input, found against the rule set's
// catalog (e.g. a discipline code the catalog does not know).
struct InputViolation {
  std::string field;
  std::string description;
};

// A rule set compiled for evaluation: every expression parsed, checked and
// planned, every catalog code resolved. Immutable; evaluate it from any
// number of threads at once.
class CompiledRuleSet {
 public:
  virtual ~CompiledRuleSet() = default;

  virtual const RuleSetMetadata& metadata() const = 0;
  // Hex SHA-256 of the canonical content (independent of formatting and
  // comments in the files).
  virtual const std::string& digest() const = 0;
  // The canonical content the digest covers, as compact JSON.
  virtual const std::string& canonical_content() const = 0;
  // The full name of the input message type, e.g. "reconnect.v1.Assessment".
  virtual const std::string& input_type() const = 0;
  // The CDS Hooks services the rule set offers (cds_hooks.json, checked):
  // {"services": [...]}, or null when it declares none.
  virtual const nlohmann::json& cds_hooks() const = 0;
  // How FHIR facts map to input fields (fhir_mapping.json); empty when the
  // rule set declares none.
  virtual const FhirMapping& fhir_mapping() const = 0;
  virtual size_t rule_count() const = 0;
  virtual const std::string& rule_id(size_t i) const = 0;
  // Rule `i`'s title, for people (may be empty).
  virtual const std::string& rule_title(size_t i) const = 0;
  // Rule `i`'s condition (`when`) as written, in CEL: for people, e.g. as
  // the condition of a FHIR action.
  virtual const std::string& rule_condition(size_t i) const = 0;
  // When rule i is next due for clinical review (YYYY-MM-DD): its own
  // "review_by", or else the rule set's; empty when neither is set.
  virtual const std::string& rule_review_by(size_t i) const = 0;
  // Where rule i is written: its file (relative to the rule set) and line.
  virtual std::pair<std::string, int> rule_location(size_t i) const = 0;
  // The hazard log (hazards.json), checked at load: null when the rule set
  // has none.
  virtual const std::vector<Hazard>* hazards() const = 0;

  // Checks `input` against what the catalog knows (coded values that must
  // name catalog entries). Empty when the input is acceptable.
  virtual std::vector<InputViolation> ValidateInput(
      const google::protobuf::Message& input) const = 0;

  // What to explain beside a recommendation. Each part costs a few
  // evaluations of the conditions concerned when asked for, and nothing
  // when not.
  struct Explain {
    // Why each rule that did not fire did not (the deciding clause of its
    // condition), or which rules held it back; in rule order.
    google::protobuf::RepeatedPtrField<v1::RuleExplanation>* why_not = nullptr;
    // The absent facts that could change the plan (CEL's partial
    // evaluation of the rules that did not fire).
    v1::MissingData* missing_data = nullptr;
    // The CEL evaluation cost the missing-data analysis may spend; when it
    // runs out, MissingData.complete is false.
    int64_t missing_data_budget = kDefaultMissingDataBudget;
  };
  static constexpr int64_t kDefaultMissingDataBudget = 20000;

  // Evaluates every rule on `input` (which must be of input_type()). Fills
  // `out` and, when not null, the indices of the rules that fired and what
  // `explain` asks for.
  virtual void Evaluate(const google::protobuf::Message& input,
                        reconnect::v1::Recommendation& out,
                        std::vector<size_t>* fired = nullptr,
                        const Explain* explain = nullptr) const = 0;

  // Only the first stage of Evaluate: whether each rule's condition holds
  // on `input` (`met[i]` for rule i; false also when it is an error),
  // with the definitions it uses, and nothing assembled. What the
  // conditions alone cost, for benchmarks and tools.
  virtual void EvaluateConditions(const google::protobuf::Message& input,
                                  std::vector<bool>& met) const = 0;
};

struct LoadResult {
  // Null when `issues` is not empty.
  std::shared_ptr<const CompiledRuleSet> rule_set;
  std::vector<RuleSetIssue> issues;
  // Problems that do not stop the rule set loading, for `reconnect lint`
  // (e.g. a prompt recommended without its technique). Only set when the
  // rule set loaded.
  std::vector<RuleSetIssue> warnings;
};

// Loads, checks and compiles the rule set in directory `dir`. Never throws;
// every problem is an issue with its file and position.
LoadResult LoadRuleSet(const std::filesystem::path& dir,
                       const LoadOptions& options = {});

// Rebuilds a rule set from its canonical content (CompiledRuleSet::
// canonical_content(), as the audit store keeps it), so that a past
// decision can be replayed with the exact rules that made it. An issue
// when the content is malformed, or does not reproduce `expected_digest`
// (when not empty).
LoadResult LoadCanonicalRuleSet(const std::string& canonical_content,
                                const std::string& expected_digest = "",
                                const LoadOptions& options = {});

// One expression evaluated exactly as a rule's condition sees it: with the
// rule set's params, defs, container and input. For rule authors' tools.
struct ExpressionResult {
  // Problems with the rule set, or with the expression (file "<expr>").
  std::vector<RuleSetIssue> issues;
  std::string type;  // the checked type, e.g. "int" or "list(string)"
  cel::Value value;  // a CEL error value when evaluation failed
  // For an error value: where it arose, "<expr>:line:col" or, inside a
  // definition, "file:line:col" in the rule set.
  std::string error_location;
  // What `value` may borrow from; keep it while using `value`.
  std::shared_ptr<const void> keep_alive;
};

// Compiles `expression` in the environment of the rule set in `dir`, with
// extra dynamic `variables`, and evaluates it on `input` (which may be null
// when the expression does not read the input).
ExpressionResult EvaluateExpression(
    const std::filesystem::path& dir, const std::string& expression,
    const std::vector<std::pair<std::string, cel::Value>>& variables,
    const google::protobuf::Message* input, const LoadOptions& options = {});

// The rule set, and its rules, whose review date is before `today`
// (YYYY-MM-DD): warnings (RS501), never refusals, since a version past its
// review still serves. The rule set's own date comes first.
std::vector<RuleSetIssue> ReviewsDue(const CompiledRuleSet& rule_set,
                                     const std::string& today);

// A rule set's own test cases, run against its compiled form.
struct TestCaseResult {
  std::string file;
  std::string name;
  std::vector<std::string> failures;  // empty when the case passed
};

struct TestReport {
  std::vector<TestCaseResult> cases;
  std::vector<RuleSetIssue> issues;  // malformed test files or cases
  std::vector<std::string> rules_never_fired;
  // Rules whose rendered reason no case asserts ("expect_reason").
  std::vector<std::string> reasons_never_checked;
  size_t rules_total = 0;
  size_t passed() const;
  size_t failed() const;
};

// Runs the cases under `dir`/tests against `rule_set`.
TestReport RunRuleSetTests(const std::filesystem::path& dir,
                           const CompiledRuleSet& rule_set,
                           const LoadOptions& options = {});

// The hazard log's proofs against the rule set's test results: each test
// case a hazard names must exist (RS603) and pass (RS604). Empty when the
// rule set has no hazard log, or every proof holds.
std::vector<RuleSetIssue> CheckHazardTests(const CompiledRuleSet& rule_set,
                                           const TestReport& report);

}  // namespace reconnect::ruleset

#endif  // RECONNECT_ENGINE_RULESET_RULE_SET_H_
