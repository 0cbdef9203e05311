#include "engine/ruleset/issue_codes.h"

namespace reconnect::ruleset::issue_codes {

const std::vector<IssueCodeInfo>& AllIssueCodes() {
  static const auto* all = new std::vector<IssueCodeInfo>{
      {kUnreadable,
       "a file or directory cannot be read, is missing, or is too large"},
      {kInvalidJson, "a file is not valid JSON (comments are allowed)"},
      {kUnknownKey, "an object has a key the format does not know"},
      {kMissingOrWrongShape,
       "a required key is missing, or a value has the wrong JSON shape"},
      {kBadName,
       "an id, code, name, version or status is not in its allowed form"},
      {kDuplicate, "a rule id, catalog code or JSON key appears twice"},
      {kRuleDoesNothing, "a rule recommends and suppresses nothing"},
      {kExpression, "a CEL expression does not parse or type-check"},
      {kWrongType,
       "an expression's type is not what its place needs (a condition "
       "must be bool, the team a list(string))"},
      {kDefCycle, "definitions depend on each other in a cycle"},
      {kParamValue, "a param's value is not of its declared type"},
      {kRationale, "a rationale template is malformed or its expression fails"},
      {kInputType, "the metadata's input type is not a known message"},
      {kUnknownCode,
       "a rule names a catalog code (or a tag) that the catalog lacks"},
      {kUnknownCatalogReference,
       "a catalog entry names a component, discipline or technique the "
       "catalog lacks"},
      {kNoDiscipline, "a technique has no discipline to deliver it"},
      {kBadEnumValue, "an audience or severity is not one of its values"},
      {kPromptWithoutTechnique,
       "a warning, not a refusal: a rule recommends a prompt without any "
       "technique the prompt belongs to, or a prompt that belongs to no "
       "technique and is not marked standalone"},
      {kSignOff,
       "signatures.json is malformed, a signature covers another digest, or "
       "the signers and the approvers in ruleset.json differ"},
      {kBadTestCase, "a test file or test case is malformed"},
      {kNoTestCases, "the rule set has no test cases"},
      {kBadCanonicalContent,
       "stored canonical content is malformed or does not match its digest"},
      {kBadToolInput,
       "an expression or input given to a tool (reconnect expr) is wrong"},
  };
  return *all;
}

}  // namespace reconnect::ruleset::issue_codes
