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

}  // namespace

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
