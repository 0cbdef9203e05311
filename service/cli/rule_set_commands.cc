#include "service/cli/rule_set_commands.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/cel/runtime/program.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "service/cli/rule_set_loading.h"
#include "service/decision/decision_engine.h"
#include "service/decision/rule_set_registry.h"
#include "service/fhir/plan_bundle.h"
#include "service/http/cds_cards.h"

namespace reconnect::service {

namespace {

constexpr size_t kMaxInputBytes = 4 << 20;

bool ReadInput(const std::string& file, std::string& out) {
  std::istream* in = &std::cin;
  std::ifstream f;
  if (file != "-") {
    f.open(file, std::ios::binary);
    if (!f) {
      std::cerr << file << ": cannot open file\n";
      return false;
    }
    in = &f;
  }
  std::ostringstream buf;
  char chunk[65536];
  while (in->read(chunk, sizeof(chunk)) || in->gcount() > 0) {
    buf.write(chunk, in->gcount());
    if (static_cast<size_t>(buf.tellp()) > kMaxInputBytes) {
      std::cerr << file << ": input is larger than " << kMaxInputBytes
                << " bytes\n";
      return false;
    }
  }
  out = buf.str();
  return true;
}

// A --var value: JSON, where whole numbers bind as int (uint above int64's
// range) and other numbers as double, as a rule author would expect.
cel::Value JsonToValue(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::boolean:
      return cel::Value::Bool(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return cel::Value::Int(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      return u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? cel::Value::Int(static_cast<int64_t>(u))
                 : cel::Value::Uint(u);
    }
    case nlohmann::json::value_t::number_float:
      return cel::Value::Double(j.get<double>());
    case nlohmann::json::value_t::string:
      return cel::Value::String(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<cel::Value> elements;
      for (const auto& e : j) elements.push_back(JsonToValue(e));
      return cel::Value::List(std::move(elements));
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<cel::Value, cel::Value>> entries;
      for (const auto& [k, v] : j.items()) {
        entries.emplace_back(cel::Value::String(k), JsonToValue(v));
      }
      return cel::Value::Map(
          std::make_shared<cel::VectorMapRep>(std::move(entries)));
    }
    default:
      return cel::Value::Null();
  }
}

// Prints "type: value", or the error with where it arose, for `expr`.
int PrintExprResult(const cel::Value& value, const std::string& location) {
  if (value.is_error()) {
    std::cerr << (location.empty() ? "<expr>" : location)
              << ": evaluation error: " << value.error_message() << "\n";
    return 1;
  }
  std::cout << value.TypeName() << ": " << value.DebugString() << "\n";
  return 0;
}

}  // namespace

int RunExpr(const std::string& expression,
            const std::vector<std::string>& variables,
            const std::string& given_rules_dir,
            const std::string& assessment_file) {
  std::vector<std::pair<std::string, cel::Value>> vars;
  for (const std::string& v : variables) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "--var " << v << ": expected NAME=JSON\n";
      return 2;
    }
    const std::string name = v.substr(0, eq);
    const auto json = nlohmann::json::parse(v.substr(eq + 1), nullptr,
                                            /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      std::cerr << "--var " << name << ": not valid JSON\n";
      return 2;
    }
    vars.emplace_back(name, JsonToValue(json));
  }
  if (given_rules_dir.empty()) {
    if (!assessment_file.empty()) {
      std::cerr << "--assessment needs --rules, whose rule set names the "
                   "input type\n";
      return 2;
    }
    cel::ExpressionSetBuilder builder(
        google::protobuf::DescriptorPool::generated_pool(), "");
    std::vector<int> indices;
    for (const auto& [name, value] : vars) {
      indices.push_back(builder.DeclareVariable(name, cel::Type::Dyn()));
    }
    const auto compiled = builder.Compile(expression);
    for (const auto& issue : compiled.issues) {
      std::cerr << "<expr>:" << issue.ToString() << "\n";
    }
    if (compiled.id < 0) return 1;
    const auto set = builder.Build();
    cel::Evaluation ev(*set);
    for (size_t i = 0; i < vars.size(); ++i) {
      ev.SetVariable(indices[i], vars[i].second);
    }
    const cel::Value value = ev.Evaluate(compiled.id);
    const auto site = set->SiteOf(value);
    return PrintExprResult(
        value, site ? absl::StrCat("<expr>:", site->position.line, ":",
                                   site->position.column)
                    : "");
  }
  v1::Assessment assessment;
  if (!assessment_file.empty()) {
    std::string input;
    if (!ReadInput(assessment_file, input)) return 1;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(input, &assessment);
    if (!parsed.ok()) {
      std::cerr << assessment_file
                << ": not a valid reconnect.v1.Assessment in protobuf JSON: "
                << parsed.message() << "\n";
      return 1;
    }
  }
  const std::string rules_dir = ChosenVersionDir(given_rules_dir);
  const ruleset::ExpressionResult result =
      ruleset::EvaluateExpression(rules_dir, expression, vars, &assessment);
  for (const auto& issue : result.issues) {
    std::cerr << (issue.file == "<expr>" ? "" : rules_dir + "/")
              << issue.ToString() << "\n";
  }
  if (!result.issues.empty()) return 1;
  // Locations in the rule set are relative to it; "<expr>" ones are not.
  const std::string& at = result.error_location;
  return PrintExprResult(result.value, at.empty() || at.rfind("<expr>", 0) == 0
                                           ? at
                                           : rules_dir + "/" + at);
}

namespace {

// Reads and evaluates one assessment file with the rule set in `dir`; false
// (the problems reported) when it cannot.
bool EvaluateFile(const std::string& dir, const std::string& file,
                  std::shared_ptr<const ruleset::CompiledRuleSet>& rs,
                  v1::EvaluateRequest& request, v1::EvaluateResponse& response,
                  int64_t missing_data_budget =
                      ruleset::CompiledRuleSet::kDefaultMissingDataBudget) {
  std::string input;
  if (!ReadInput(file, input)) return false;
  request.set_calling_system("reconnect-eval");
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      input, request.mutable_assessment());
  if (!parsed.ok()) {
    std::cerr << file
              << ": not a valid reconnect.v1.Assessment in protobuf JSON: "
              << parsed.message() << "\n";
    return false;
  }
  rs = LoadOrReport(dir);
  if (!rs) return false;
  RuleSetRegistry registry;
  registry.Add(rs, /*activate=*/true);
  DecisionEngine engine(registry);
  engine.set_missing_data_budget(missing_data_budget);
  std::vector<FieldViolation> violations;
  const absl::Status status = engine.Evaluate(request, response, violations);
  if (!status.ok()) {
    std::cerr << file << ": " << status.message() << "\n";
    for (const auto& v : violations)
      std::cerr << file << ": " << v.field << ": " << v.description << "\n";
    return false;
  }
  return true;
}

}  // namespace

int RunEval(const std::string& dir, const std::string& file) {
  std::shared_ptr<const ruleset::CompiledRuleSet> rs;
  v1::EvaluateRequest request;
  v1::EvaluateResponse response;
  if (!EvaluateFile(dir, file, rs, request, response)) return 1;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(response, &json, options)
           .ok()) {
    std::cerr << "cannot print the response as JSON\n";
    return 1;
  }
  std::cout << json;
  return 0;
}

namespace {

const char* KindName(v1::ItemKind kind) {
  switch (kind) {
    case v1::ITEM_KIND_TECHNIQUE:
      return "technique";
    case v1::ITEM_KIND_DISCIPLINE:
      return "discipline";
    case v1::ITEM_KIND_PROMPT:
      return "prompt";
    case v1::ITEM_KIND_ALERT:
      return "alert";
    case v1::ITEM_KIND_CONSIDERATION:
      return "consideration";
    default:
      return "item";
  }
}

// A clause and what it came to, indented by `indent`, for a person.
void AppendClause(const v1::Clause& c, const std::string& indent,
                  std::string& out) {
  absl::StrAppend(&out, indent, c.expression(), " is ", c.value());
  if (!c.comparison().empty()) absl::StrAppend(&out, ": ", c.comparison());
  absl::StrAppend(&out, "\n");
  if (!c.definitions().empty()) {
    absl::StrAppend(&out, indent, "  inside ",
                    absl::StrJoin(c.definitions(), " > "), "\n");
  }
  if (!c.operands().empty() && c.comparison().empty()) {
    std::vector<std::string> read;
    for (const v1::ClauseOperand& op : c.operands()) {
      read.push_back(absl::StrCat(op.expression(), " = ", op.value()));
    }
    absl::StrAppend(&out, indent, "  read: ", absl::StrJoin(read, "; "), "\n");
  }
  if (!c.location().empty()) {
    absl::StrAppend(&out, indent, "  at ", c.location(), "\n");
  }
  for (const v1::Clause& a : c.alternatives()) {
    AppendClause(a, indent + "  ", out);
  }
}

// One rule's explanation, for a person.
std::string ExplanationText(const v1::RuleExplanation& x) {
  std::string out;
  if (x.outcome() == v1::RuleExplanation::HELD) {
    absl::StrAppend(&out, x.rule_id(), ": fired, held back by ",
                    absl::StrJoin(x.held_by(), ", "), "\n");
    for (const v1::HeldItem& item : x.held_items()) {
      absl::StrAppend(&out, "  held: ", KindName(item.kind()), " ", item.code(),
                      " (", item.display(), ")\n");
    }
    return out;
  }
  absl::StrAppend(&out, x.rule_id(),
                  x.outcome() == v1::RuleExplanation::ERROR
                      ? ": could not be evaluated\n"
                      : ": not met\n");
  AppendClause(x.clause(), "  ", out);
  return out;
}

// The missing-data part of an explained response, for people: each absent
// fact that could change the plan, most first, with what its rules would do.
std::string MissingDataText(const v1::MissingData& m) {
  std::string out;
  if (m.facts().empty()) {
    absl::StrAppend(
        &out, "\nMissing data: no absent fact could change the plan",
        m.complete() ? "" : " (analysis incomplete: budget spent)", "\n");
    return out;
  }
  absl::StrAppend(&out, "\nMissing data: ", m.facts_size(),
                  m.facts_size() == 1 ? " absent fact" : " absent facts",
                  " could change the plan",
                  m.complete() ? "" : " (analysis incomplete: budget spent)",
                  "\n");
  for (const v1::MissingFact& f : m.facts()) {
    absl::StrAppend(&out, "  ", f.label(), " (", f.path(), "): ", f.impact(),
                    f.impact() == 1 ? " item\n" : " items\n");
    for (const v1::UnknownRule& u : m.rules()) {
      if (std::find(u.facts().begin(), u.facts().end(), f.path()) !=
          u.facts().end()) {
        absl::StrAppend(&out, "    ", u.rule_id(), ": ", u.text(), "\n");
      }
    }
  }
  if (m.has_worth_measuring()) {
    absl::StrAppend(&out, m.worth_measuring().text(), "\n");
  }
  return out;
}

}  // namespace

int RunExplain(const std::string& dir, const std::string& file,
               const std::string& rule_id, int64_t missing_data_budget) {
  std::shared_ptr<const ruleset::CompiledRuleSet> rs;
  v1::EvaluateRequest request;
  request.set_explanation(v1::EXPLANATION_WHY_NOT);
  v1::EvaluateResponse response;
  if (!EvaluateFile(dir, file, rs, request, response, missing_data_budget)) {
    return 1;
  }
  const std::string name = absl::StrCat(response.rule_set().id(), " ",
                                        response.rule_set().version());
  if (!rule_id.empty()) {
    bool known = false;
    for (size_t i = 0; i < rs->rule_count(); ++i) {
      known = known || rs->rule_id(i) == rule_id;
    }
    if (!known) {
      std::cerr << "no rule '" << rule_id << "' in " << name << "\n";
      return 1;
    }
    for (const v1::RuleExplanation& x : response.why_not()) {
      if (x.rule_id() == rule_id) {
        std::cout << ExplanationText(x);
        for (const v1::UnknownRule& u : response.missing_data().rules()) {
          if (u.rule_id() == rule_id) std::cout << "  " << u.text() << "\n";
        }
        return 0;
      }
    }
    std::cout << rule_id
              << ": fired, and nothing it recommends was held "
                 "back\n";
    return 0;
  }
  size_t held = 0;
  for (const v1::RuleExplanation& x : response.why_not()) {
    held += x.outcome() == v1::RuleExplanation::HELD;
  }
  const size_t not_fired = response.why_not_size() - held;
  std::cout << name << ": " << rs->rule_count() - not_fired << " of "
            << rs->rule_count() << " rules fired, " << held
            << " of them held back\n";
  for (const v1::RuleExplanation& x : response.why_not()) {
    std::cout << "\n" << ExplanationText(x);
  }
  std::cout << MissingDataText(response.missing_data());
  return 0;
}

int RunPlan(const std::string& dir, const std::string& file, bool fhir) {
  std::shared_ptr<const ruleset::CompiledRuleSet> rs;
  v1::EvaluateRequest request;
  v1::EvaluateResponse response;
  if (!EvaluateFile(dir, file, rs, request, response)) return 1;
  const v1::Assessment& assessment = request.assessment();
  if (fhir) {
    fhir::PlanInput input;
    input.decision_id = response.decision_id();
    input.rule_set = rs.get();
    input.patient_ref = assessment.patient_ref();
    input.decided_at =
        absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
    input.missing = fhir::MissingFacts(rs->fhir_mapping(), assessment);
    std::cout << fhir::PlanBundle(response.recommendation(), input)
                     .dump(1, ' ', false,
                           nlohmann::json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  http::CardInput input;
  input.decision_id = response.decision_id();
  input.rule_set_id = response.rule_set().id();
  input.rule_set_version = response.rule_set().version();
  input.rule_set_digest = response.rule_set().digest();
  input.patient_ref = assessment.patient_ref();
  if (auto it = rs->cds_hooks().find("cards"); it != rs->cds_hooks().end()) {
    input.cards = &*it;
  }
  for (const auto* fact : fhir::MissingFacts(rs->fhir_mapping(), assessment)) {
    input.missing.push_back(fact->label);
  }
  std::cout << http::PlanMarkdown(response.recommendation(), input);
  return 0;
}

}  // namespace reconnect::service
