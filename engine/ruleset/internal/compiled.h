#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_COMPILED_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_COMPILED_H_

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/cel/runtime/program.h"
#include "engine/ruleset/rule_set.h"

namespace reconnect::ruleset::ruleset_internal {

// The kinds of item a rule can recommend or suppress. Their order is the
// index into per-kind arrays below.
enum ItemKindIndex : int {
  kTechnique = 0,
  kDiscipline,
  kPrompt,
  kAlert,
  kConsideration,
  kItemKinds,
};

// The JSON key of each kind in "recommend" and "suppress", and in the catalog.
inline constexpr std::array<const char*, kItemKinds> kKindKeys = {
    "techniques", "disciplines", "prompts", "alerts", "considerations"};

struct CatalogItem {
  std::string code;
  std::string display;  // display text (techniques, disciplines, components)
  std::string text;     // prompt, alert and consideration texts
  std::vector<std::string> tags;
  int component = -1;            // techniques
  std::vector<int> disciplines;  // techniques: who can deliver
  int audience = 0;              // prompts: reconnect.v1.Audience
  // prompts: the techniques the prompt belongs to; a rule that holds back
  // every one of them holds back the prompt too.
  std::vector<int> techniques;
  // prompts: stands on its own, belonging to no technique.
  bool standalone = false;
  // considerations: named (by `display`) in the one-line summary.
  bool in_summary = false;
  int severity = 0;  // alerts: reconnect.v1.Severity
};

struct Component {
  std::string code;
  std::string display;
};

// A piece of a rationale template: literal text, or a CEL expression.
struct TemplatePart {
  std::string text;
  int expression = -1;
};

struct CompiledRule {
  std::string id;
  std::string title;
  std::string source;
  std::string review_by;  // its own review date; empty: the rule set's
  std::string file;       // where it is written, and its line
  int line = 0;
  int priority = 0;
  int when = -1;
  std::string when_text;  // as written
  std::vector<TemplatePart> rationale;
  std::array<std::vector<int>, kItemKinds> recommend;
  // Per kind, a mask over catalog entries this rule suppresses (empty: none).
  std::array<std::vector<bool>, kItemKinds> suppress;
  bool suppresses_anything = false;
  bool suppresses_everything = false;  // "*" in some kind
  std::vector<int> facts;  // fact slots read by `when` and the rationale
};

struct SummaryLabels {
  std::string alerts = "Alerts";
  // Followed by the titles of the considerations the catalog marks
  // "summary": true, right after the alerts.
  std::string considerations = "Considerations";
  std::string components = "Components";
  std::string prompts = "Prompts";
  std::string gaps = "Skills gaps";
  std::string held = "Held";
  std::string empty = "No recommendations";
};

// ruleset.json's "missing_data": how absent facts are named and told.
struct MissingDataWords {
  // Fact path -> name for people, e.g. "scores.pcs_total" -> "PCS".
  std::map<std::string, std::string> labels;
  // One rule: {facts}, {condition} and {changes} (the add and hold parts
  // joined by `and`), each with its {items}.
  std::string sentence =
      "{facts} not recorded: if {condition}, the plan would {changes}.";
  std::string add = "add {items}";
  std::string hold = "hold back {items}";
  std::string and_ = " and ";
  // Items named in a sentence are techniques, disciplines and alerts; the
  // prompts and considerations are counted ({n}).
  std::string more = "{n} more";
  // The clinician prompt naming the top facts ({facts}); no prompt when the
  // code is empty.
  std::string worth_measuring_code;
  std::string worth_measuring = "Worth measuring: {facts}.";
  int top = 3;
};

class CompiledRuleSetImpl final : public CompiledRuleSet {
 public:
  const RuleSetMetadata& metadata() const override { return metadata_; }
  const std::string& digest() const override { return digest_; }
  const std::string& canonical_content() const override { return canonical_; }
  const std::string& input_type() const override { return input_type_; }
  size_t rule_count() const override { return rules_.size(); }
  const nlohmann::json& cds_hooks() const override { return cds_hooks_; }
  const FhirMapping& fhir_mapping() const override { return fhir_mapping_; }
  const std::string& rule_id(size_t i) const override { return rules_[i].id; }
  const std::string& rule_title(size_t i) const override {
    return rules_[i].title;
  }
  const std::string& rule_condition(size_t i) const override {
    return rules_[i].when_text;
  }
  const std::string& rule_review_by(size_t i) const override {
    return rules_[i].review_by.empty() ? metadata_.review_by
                                       : rules_[i].review_by;
  }
  std::pair<std::string, int> rule_location(size_t i) const override {
    return {rules_[i].file, rules_[i].line};
  }
  const std::vector<Hazard>* hazards() const override {
    return has_hazards_ ? &hazards_ : nullptr;
  }
  std::vector<InputViolation> ValidateInput(
      const google::protobuf::Message& input) const override;
  void Evaluate(const google::protobuf::Message& input,
                reconnect::v1::Recommendation& out, std::vector<size_t>* fired,
                const Explain* explain) const override;
  void EvaluateConditions(const google::protobuf::Message& input,
                          std::vector<bool>& met) const override;

  RuleSetMetadata metadata_;
  bool has_hazards_ = false;
  std::vector<Hazard> hazards_;
  std::string digest_;
  std::string canonical_;
  nlohmann::json cds_hooks_;
  FhirMapping fhir_mapping_;
  std::string input_type_;
  std::shared_ptr<const cel::ExpressionSet> expressions_;
  int input_index_ = 0;
  int team_expression_ = -1;  // list(string) of discipline codes, or -1
  std::string team_path_;     // for violations, e.g. "care_team.disciplines"
  std::vector<Component> components_;
  std::array<std::vector<CatalogItem>, kItemKinds> catalog_;
  // Rules sorted by priority, highest first (ties keep file order).
  std::vector<CompiledRule> rules_;
  std::string gap_suggestion_;
  // For a discipline a rule asks for that the team lacks ({item}); when
  // empty, gap_suggestion_ with the discipline as the one able.
  std::string gap_discipline_suggestion_;
  SummaryLabels labels_;
  MissingDataWords missing_data_;
  // Each fact slot's label (MissingDataWords::labels), or empty.
  std::vector<std::string> fact_labels_;
  // "file:line:col" of each error site of `expressions_`, by site index.
  std::vector<std::string> error_locations_;

  // Where the error value `v` arose in the rule set's files; empty when
  // unknown.
  std::string ErrorLocation(const cel::Value& v) const {
    const uint32_t site = v.is_error() ? v.error_site() : 0;
    return site != 0 && site < error_locations_.size() ? error_locations_[site]
                                                       : std::string();
  }
};

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_INTERNAL_COMPILED_H_
