// The metadata stage: ruleset.json (id, version, status, labels, input)
// and the team expression.

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/layout.h"
#include "google/protobuf/descriptor.h"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

bool RuleSetCompiler::ReadMetadata(const SourceFile& f) {
  ObjectReader r(f, f.root, "rule-set metadata", "", 0, issues_);
  if (!r.ok()) return false;
  r.RejectUnknownKeys({"id", "version", "status", "effective_date", "title",
                       "description", "authors", "approvers", "changelog",
                       "input", "container", "team", "gap_suggestion",
                       "gap_discipline_suggestion", "summary_labels",
                       "missing_data", "review_by"});
  RuleSetMetadata& m = out_->metadata_;
  m.id = r.String("id", true);
  m.version = r.String("version", true);
  m.status = r.String("status", true);
  m.effective_date = r.String("effective_date", false);
  m.title = r.String("title", false);
  m.authors = r.StringList("authors");
  m.approvers = r.StringList("approvers");
  m.review_by = r.String("review_by", false);
  if (!m.review_by.empty() && !RE2::FullMatch(m.review_by, kDatePattern)) {
    r.Error(issue_codes::kBadName,
            "\"review_by\" must be a date such as 2027-12-01",
            f.FindString(m.review_by));
  }
  if (!m.id.empty() && !RE2::FullMatch(m.id, "[a-z][a-z0-9_.-]{0,63}")) {
    r.Error(issue_codes::kBadName,
            "\"id\" must be lower-case letters, digits, '_', '.' or '-'",
            f.FindString(m.id));
  }
  if (!m.version.empty() && !RE2::FullMatch(m.version, kVersionPattern)) {
    r.Error(issue_codes::kBadName,
            "\"version\" must be a semantic version such as 1.2.0",
            f.FindString(m.version));
  }
  if (!m.status.empty() && m.status != "draft" && m.status != "active" &&
      m.status != "retired") {
    r.Error(issue_codes::kBadName,
            "\"status\" must be draft, active or retired",
            f.FindString(m.status));
  }
  out_->gap_suggestion_ = r.String("gap_suggestion", true);
  out_->gap_discipline_suggestion_ =
      r.String("gap_discipline_suggestion", false);
  if (const json* labels = r.Member("summary_labels")) {
    ObjectReader lr(f, *labels, "summary_labels", "",
                    r.KeyOffset("summary_labels"), issues_);
    lr.RejectUnknownKeys({"alerts", "considerations", "components", "prompts",
                          "gaps", "held", "empty"});
    auto& l = out_->labels_;
    for (auto [key, dest] : {std::pair{"alerts", &l.alerts},
                             {"considerations", &l.considerations},
                             {"components", &l.components},
                             {"prompts", &l.prompts},
                             {"gaps", &l.gaps},
                             {"held", &l.held},
                             {"empty", &l.empty}}) {
      if (std::string s = lr.String(key, false); !s.empty()) *dest = s;
    }
  }
  const json* input = r.Member("input");
  if (input == nullptr) {
    r.Error(
        issue_codes::kMissingOrWrongShape,
        "rule-set metadata: \"input\" is required ({\"name\": ..., \"type\": "
        "...})");
    return false;
  }
  ObjectReader ir(f, *input, "input", "", r.KeyOffset("input"), issues_);
  ir.RejectUnknownKeys({"name", "type"});
  input_name_ = ir.String("name", true);
  const std::string type = ir.String("type", true);
  const google::protobuf::Descriptor* d =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          type);
  if (!type.empty() && d == nullptr) {
    ir.Error(
        issue_codes::kInputType,
        absl::StrCat("input type '", type, "' is not a known message type"),
        f.FindString(type));
  }
  if (d == nullptr || input_name_.empty()) return false;
  if (const json* words = r.Member("missing_data")) {
    ReadMissingDataWords(f, *words, r.KeyOffset("missing_data"), d);
  }
  out_->input_type_ = type;
  builder_ = std::make_unique<cel::ExpressionSetBuilder>(
      google::protobuf::DescriptorPool::generated_pool(),
      r.String("container", false), options_.limits);
  out_->input_index_ = builder_->DeclareInput(input_name_, d);
  return issues_.empty();
}

namespace {

// Whether `path` ("scores.pcs_total") names a field below messages of type
// `d` through singular message fields, as fact paths do.
bool IsFactPath(const google::protobuf::Descriptor* d,
                const std::string& path) {
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (d == nullptr) return false;
    const auto* field = d->FindFieldByName(std::string(part));
    if (field == nullptr) return false;
    d = field->is_repeated() ? nullptr : field->message_type();
  }
  return true;
}

// Reports a placeholder in `text` other than `allowed` ("{facts}").
void CheckPlaceholders(ObjectReader& r, const SourceFile& f,
                       const std::string& text,
                       const std::vector<std::string>& allowed) {
  static const RE2 kPlaceholder("(\\{[^}]*\\})");
  re2::StringPiece rest(text);
  std::string found;
  while (RE2::FindAndConsume(&rest, kPlaceholder, &found)) {
    if (std::find(allowed.begin(), allowed.end(), found) == allowed.end()) {
      r.Error(issue_codes::kBadName,
              absl::StrCat("unknown placeholder ", found, " in \"", text,
                           "\"; expected ", absl::StrJoin(allowed, ", ")),
              f.FindString(text));
    }
  }
}

}  // namespace

void RuleSetCompiler::ReadMissingDataWords(
    const SourceFile& f, const json& words, size_t offset,
    const google::protobuf::Descriptor* input) {
  ObjectReader r(f, words, "missing_data", "", offset, issues_);
  if (!r.ok()) {
    r.Error(issue_codes::kMissingOrWrongShape,
            "\"missing_data\" must be an object");
    return;
  }
  r.RejectUnknownKeys(
      {"sentence", "add", "hold", "and", "more", "worth_measuring", "labels"});
  MissingDataWords& m = out_->missing_data_;
  const std::vector<std::string> items = {"{items}"};
  for (auto [key, dest, allowed] :
       {std::tuple{
            "sentence", &m.sentence,
            std::vector<std::string>{"{facts}", "{condition}", "{changes}"}},
        std::tuple{"add", &m.add, items}, std::tuple{"hold", &m.hold, items},
        std::tuple{"and", &m.and_, std::vector<std::string>{}},
        std::tuple{"more", &m.more, std::vector<std::string>{"{n}"}}}) {
    if (std::string text = r.String(key, false); !text.empty()) {
      CheckPlaceholders(r, f, text, allowed);
      *dest = std::move(text);
    }
  }
  if (const json* prompt = r.Member("worth_measuring")) {
    ObjectReader pr(f, *prompt, "missing_data.worth_measuring", "",
                    r.KeyOffset("worth_measuring"), issues_);
    pr.RejectUnknownKeys({"code", "text", "top"});
    m.worth_measuring_code = pr.String("code", true);
    m.worth_measuring = pr.String("text", true);
    CheckPlaceholders(pr, f, m.worth_measuring, {"{facts}"});
    m.top = static_cast<int>(pr.Int("top", 3));
    if (m.top < 1 || m.top > 20) {
      pr.Error(issue_codes::kBadName, "\"top\" must be between 1 and 20",
               pr.KeyOffset("top"));
    }
  }
  if (const json* labels = r.Member("labels")) {
    if (!labels->is_object()) {
      r.Error(issue_codes::kMissingOrWrongShape,
              "\"labels\" must map fact paths to names", r.KeyOffset("labels"));
      return;
    }
    for (const auto& [path, label] : labels->items()) {
      if (!IsFactPath(input, path)) {
        r.Error(issue_codes::kBadName,
                absl::StrCat("\"", path,
                             "\" in missing_data.labels is not a "
                             "field path of ",
                             input->full_name()),
                f.FindString(path));
      } else if (!label.is_string() || label.get<std::string>().empty()) {
        r.Error(issue_codes::kMissingOrWrongShape,
                absl::StrCat("the label of \"", path,
                             "\" must be a non-empty string"),
                f.FindString(path));
      } else {
        m.labels[path] = label.get<std::string>();
      }
    }
  }
}

void RuleSetCompiler::ReadTeam(const SourceFile& f) {
  ObjectReader r(f, f.root, "rule-set metadata", "", 0, issues_);
  std::vector<size_t> lines;
  auto text = r.Expression("team", false, lines);
  if (!text) return;
  auto c = CompileExpression(f, "", "team", *text, lines);
  if (c.id < 0) return;
  if (!cel::Type::List(cel::Type::String()).IsAssignableFrom(c.type)) {
    r.Error(issue_codes::kWrongType,
            absl::StrCat(
                "\"team\" must be a list(string) of discipline codes, found '",
                c.type.ToString(), "'"),
            r.KeyOffset("team"));
    return;
  }
  out_->team_expression_ = c.id;
  out_->team_path_ = text->rfind(input_name_ + ".", 0) == 0
                         ? text->substr(input_name_.size() + 1)
                         : *text;
}

}  // namespace reconnect::ruleset::ruleset_internal
