#ifndef RECONNECT_ENGINE_CEL_COMMON_AST_H_
#define RECONNECT_ENGINE_CEL_COMMON_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace reconnect::cel {

struct NullConstant {
  friend bool operator==(NullConstant, NullConstant) { return true; }
};
struct BytesConstant {
  std::string value;
  friend bool operator==(const BytesConstant&, const BytesConstant&) = default;
};
using Constant = std::variant<NullConstant, bool, int64_t, uint64_t, double,
                              std::string, BytesConstant>;

enum class ExprKind : uint8_t {
  kConstant,
  kIdent,
  kSelect,
  kCall,
  kList,
  kMap,
  kStruct,
  kComprehension,
};

// The macros that expand to comprehensions. The evaluator implements each one
// directly rather than through a generic accumulator, so that `map` and
// `filter` build their result in linear time.
enum class MacroKind : uint8_t {
  kAll,
  kExists,
  kExistsOne,
  kMap,        // e.map(x, t)
  kMapFilter,  // e.map(x, p, t)
  kFilter,
  // Two-variable forms: over a list (index, element) or a map (key, value).
  kAll2,                 // e.all(i, v, p)
  kExists2,              // e.exists(i, v, p)
  kExistsOne2,           // e.existsOne(i, v, p)
  kTransformList,        // e.transformList(i, v, t)
  kTransformListFilter,  // e.transformList(i, v, p, t)
  kTransformMap,         // e.transformMap(k, v, t)
  kTransformMapFilter,   // e.transformMap(k, v, p, t)
};

// Whether a macro binds two variables (iter_var and iter_var2).
inline bool IsTwoVariableMacro(MacroKind k) { return k >= MacroKind::kAll2; }

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// An entry of a map literal (key is set) or of a message literal (field is
// set).
struct Entry {
  int64_t id = 0;
  int32_t offset = 0;
  ExprPtr key;
  std::string field;
  ExprPtr value;
  bool optional = false;
};

// One node of a parsed expression. A single node type keeps the parser and the
// passes small; `kind` says which members are meaningful.
struct Expr {
  int64_t id = 0;
  int32_t offset = 0;  // code-point offset into the source
  ExprKind kind = ExprKind::kConstant;

  Constant constant;  // kConstant
  // kIdent: the name; kSelect: the field; kCall: the function;
  // kStruct: the message name as written.
  std::string name;
  bool test_only = false;  // kSelect inside has()
  // kSelect: the operand; kCall: the receiver (null for global calls).
  ExprPtr operand;
  // kCall: the arguments; kList: the elements.
  std::vector<ExprPtr> args;
  std::vector<Entry> entries;  // kMap, kStruct

  // kComprehension: `range.macro(iter_var, args...)`; args hold the predicate
  // and/or transform.
  MacroKind macro = MacroKind::kAll;
  std::string iter_var;
  std::string iter_var2;  // two-variable macros only
  ExprPtr range;
};

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_COMMON_AST_H_
