#include "engine/cel/common/ast_debug.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/cel/common/value.h"

namespace reconnect::cel {
namespace {

const char* MacroName(MacroKind k) {
  switch (k) {
    case MacroKind::kAll:
      return "all";
    case MacroKind::kExists:
      return "exists";
    case MacroKind::kExistsOne:
      return "exists_one";
    case MacroKind::kMap:
    case MacroKind::kMapFilter:
      return "map";
    case MacroKind::kFilter:
      return "filter";
    case MacroKind::kAll2:
      return "all";
    case MacroKind::kExists2:
      return "exists";
    case MacroKind::kExistsOne2:
      return "existsOne";
    case MacroKind::kTransformList:
    case MacroKind::kTransformListFilter:
      return "transformList";
    case MacroKind::kTransformMap:
    case MacroKind::kTransformMapFilter:
      return "transformMap";
  }
  return "?";
}

std::string ConstantToString(const Constant& c) {
  switch (c.index()) {
    case 0:
      return "null";
    case 1:
      return std::get<bool>(c) ? "true" : "false";
    case 2:
      return absl::StrCat(std::get<int64_t>(c));
    case 3:
      return absl::StrCat(std::get<uint64_t>(c), "u");
    case 4:
      return Value::Double(std::get<double>(c)).DebugString();
    case 5:
      return absl::StrCat("\"", absl::CHexEscape(std::get<std::string>(c)),
                          "\"");
    default:
      return absl::StrCat(
          "b\"", absl::CHexEscape(std::get<BytesConstant>(c).value), "\"");
  }
}

// CEL's operators: their text and precedence (higher binds tighter).
struct Operator {
  const char* text;
  int precedence;
  bool unary = false;
};

const Operator* OperatorOf(const std::string& name) {
  static const auto* kOperators =
      new std::vector<std::pair<std::string, Operator>>{
          {"_?_:_", {"?", 1}},    {"_||_", {"||", 2}},   {"_&&_", {"&&", 3}},
          {"_==_", {"==", 4}},    {"_!=_", {"!=", 4}},   {"_<_", {"<", 4}},
          {"_<=_", {"<=", 4}},    {"_>_", {">", 4}},     {"_>=_", {">=", 4}},
          {"@in", {"in", 4}},     {"_+_", {"+", 5}},     {"_-_", {"-", 5}},
          {"_*_", {"*", 6}},      {"_/_", {"/", 6}},     {"_%_", {"%", 6}},
          {"!_", {"!", 7, true}}, {"-_", {"-", 7, true}}};
  for (const auto& [n, op] : *kOperators) {
    if (n == name) return &op;
  }
  return nullptr;
}

constexpr int kMemberPrecedence = 8;

int PrecedenceOf(const Expr& e) {
  if (e.kind != ExprKind::kCall || e.operand) return kMemberPrecedence;
  const Operator* op = OperatorOf(e.name);
  return op != nullptr ? op->precedence : kMemberPrecedence;
}

// `e` as CEL, in parentheses when it binds less tightly than `min`.
std::string Cel(const Expr& e, int min);

std::string Operand(const Expr& e, int min) {
  std::string text = Cel(e, 0);
  return PrecedenceOf(e) < min ? absl::StrCat("(", text, ")") : text;
}

std::string CelList(const std::vector<ExprPtr>& v) {
  return absl::StrJoin(v, ", ", [](std::string* out, const ExprPtr& x) {
    out->append(Cel(*x, 0));
  });
}

std::string Cel(const Expr& e, int) {
  switch (e.kind) {
    case ExprKind::kConstant:
      return ConstantToString(e.constant);
    case ExprKind::kIdent:
      return e.name;
    case ExprKind::kSelect:
      if (e.test_only) {
        return absl::StrCat("has(", Operand(*e.operand, kMemberPrecedence), ".",
                            e.name, ")");
      }
      return absl::StrCat(Operand(*e.operand, kMemberPrecedence), ".", e.name);
    case ExprKind::kCall: {
      if (e.operand) {
        return absl::StrCat(Operand(*e.operand, kMemberPrecedence), ".", e.name,
                            "(", CelList(e.args), ")");
      }
      if (e.name == "_[_]" && e.args.size() == 2) {
        return absl::StrCat(Operand(*e.args[0], kMemberPrecedence), "[",
                            Cel(*e.args[1], 0), "]");
      }
      const Operator* op = OperatorOf(e.name);
      if (op == nullptr) return absl::StrCat(e.name, "(", CelList(e.args), ")");
      if (op->unary && e.args.size() == 1) {
        return absl::StrCat(op->text, Operand(*e.args[0], op->precedence));
      }
      if (e.name == "_?_:_" && e.args.size() == 3) {
        return absl::StrCat(Operand(*e.args[0], 2), " ? ",
                            Operand(*e.args[1], 2), " : ",
                            Operand(*e.args[2], 1));
      }
      if (e.args.size() != 2) {
        return absl::StrCat(e.name, "(", CelList(e.args), ")");
      }
      // Left-associative: the right operand needs parentheses at the same
      // precedence.
      return absl::StrCat(Operand(*e.args[0], op->precedence), " ", op->text,
                          " ", Operand(*e.args[1], op->precedence + 1));
    }
    case ExprKind::kList:
      return absl::StrCat("[", CelList(e.args), "]");
    case ExprKind::kMap:
    case ExprKind::kStruct: {
      std::vector<std::string> parts;
      for (const Entry& en : e.entries) {
        parts.push_back(absl::StrCat(en.optional ? "?" : "",
                                     en.key ? Cel(*en.key, 0) : en.field, ": ",
                                     Cel(*en.value, 0)));
      }
      return absl::StrCat(e.kind == ExprKind::kStruct ? e.name : "", "{",
                          absl::StrJoin(parts, ", "), "}");
    }
    case ExprKind::kComprehension:
      return absl::StrCat(Operand(*e.range, kMemberPrecedence), ".",
                          MacroName(e.macro), "(", e.iter_var, ", ",
                          e.iter_var2.empty() ? "" : e.iter_var2 + ", ",
                          CelList(e.args), ")");
  }
  return "?";
}

}  // namespace

std::string ExprToCel(const Expr& e) { return Cel(e, 0); }

std::string ExprToString(const Expr& e) {
  auto join = [](const std::vector<ExprPtr>& v) {
    return absl::StrJoin(v, ", ", [](std::string* out, const ExprPtr& x) {
      out->append(ExprToString(*x));
    });
  };
  switch (e.kind) {
    case ExprKind::kConstant:
      return ConstantToString(e.constant);
    case ExprKind::kIdent:
      return e.name;
    case ExprKind::kSelect:
      return absl::StrCat(ExprToString(*e.operand), ".", e.name,
                          e.test_only ? "~test" : "");
    case ExprKind::kCall:
      if (e.operand)
        return absl::StrCat(ExprToString(*e.operand), ".", e.name, "(",
                            join(e.args), ")");
      return absl::StrCat(e.name, "(", join(e.args), ")");
    case ExprKind::kList:
      return absl::StrCat("[", join(e.args), "]");
    case ExprKind::kMap:
    case ExprKind::kStruct: {
      std::vector<std::string> parts;
      for (const Entry& en : e.entries) {
        parts.push_back(absl::StrCat(en.optional ? "?" : "",
                                     en.key ? ExprToString(*en.key) : en.field,
                                     ": ", ExprToString(*en.value)));
      }
      return absl::StrCat(e.kind == ExprKind::kStruct ? e.name : "", "{",
                          absl::StrJoin(parts, ", "), "}");
    }
    case ExprKind::kComprehension:
      return absl::StrCat(ExprToString(*e.range), ".", MacroName(e.macro), "(",
                          e.iter_var, ", ",
                          e.iter_var2.empty() ? "" : e.iter_var2 + ", ",
                          join(e.args), ")");
  }
  return "?";
}

}  // namespace reconnect::cel
