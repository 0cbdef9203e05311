// The comprehension macros' node (all, exists, exists_one, map, filter and
// the two-variable forms), planned by MakeComprehension.

#include "absl/strings/str_cat.h"
#include "engine/cel/runtime/internal/nodes.h"

namespace reconnect::cel::runtime_internal {
namespace {

// The comprehension macros. One-variable forms bind each list element (or
// map key); two-variable forms bind (index, element) or (key, value).
// all/exists absorb errors when a definite answer exists, as && and || do;
// the others propagate the first error.
class ComprehensionNode final : public Node {
 public:
  ComprehensionNode(MacroKind macro, NodePtr range, int slot, int slot2,
                    NodePtr first, NodePtr second)
      : macro_(macro),
        range_(std::move(range)),
        slot_(slot),
        slot2_(slot2),
        first_(std::move(first)),
        second_(std::move(second)) {}
  Shape shape() const override { return Shape::kComprehension; }
  // The range only: the predicate reads the iteration variables.
  size_t operand_count() const override { return 1; }
  const Node* operand(size_t) const override { return range_.get(); }

  Value DoEval(Frame& f) const override {
    Value range = range_->Eval(f);
    if (range.is_error_or_unknown()) return range;
    const bool is_list = range.kind() == Value::Kind::kList;
    if (!is_list && range.kind() != Value::Kind::kMap) {
      return Value::Error(
          absl::StrCat("expression of type '", std::string(range.TypeName()),
                       "' cannot be the range of a comprehension"));
    }
    const size_t n = is_list ? range.list().size() : range.map().size();
    const bool two = IsTwoVariableMacro(macro_);
    const bool filtered = macro_ == MacroKind::kMapFilter ||
                          macro_ == MacroKind::kFilter ||
                          macro_ == MacroKind::kTransformListFilter ||
                          macro_ == MacroKind::kTransformMapFilter;
    std::optional<Value> error;
    int64_t count = 0;
    std::vector<Value> out;
    std::vector<std::pair<Value, Value>> out_map;
    const int64_t limit = f.set.limits().max_iterations;
    for (size_t i = 0; i < n; ++i) {
      if (++f.iterations > limit) {
        return Value::Error(absl::StrCat("comprehension iterations exceed ",
                                         limit, " (limit max_iterations)"));
      }
      if (two) {
        f.locals[slot_] = is_list ? Value::Int(static_cast<int64_t>(i))
                                  : range.map().key_at(i);
        f.locals[slot2_] =
            is_list ? range.list().at(i) : range.map().value_at(i);
      } else {
        f.locals[slot_] = is_list ? range.list().at(i) : range.map().key_at(i);
      }
      Value p = first_->Eval(f);
      switch (macro_) {
        case MacroKind::kAll:
        case MacroKind::kAll2:
        case MacroKind::kExists:
        case MacroKind::kExists2: {
          const bool stop_on =
              macro_ == MacroKind::kExists || macro_ == MacroKind::kExists2;
          if (p.kind() == Value::Kind::kBool) {
            if (p.bool_value() == stop_on) return p;
          } else if (ABSL_PREDICT_FALSE(p.is_unknown())) {
            // As for && and ||: unknowns outrank errors, and merge.
            if (error && !error->is_unknown()) error.reset();
            MergeUnknown(error, p);
          } else if (!error) {
            error = p.is_error() ? p : PredicateError(p);
          }
          continue;
        }
        case MacroKind::kExistsOne:
        case MacroKind::kExistsOne2:
          if (p.kind() != Value::Kind::kBool)
            return p.is_error_or_unknown() ? p : PredicateError(p);
          if (p.bool_value()) ++count;
          continue;
        default:
          break;
      }
      // map, filter and the transforms.
      if (filtered) {
        if (p.kind() != Value::Kind::kBool)
          return p.is_error_or_unknown() ? p : PredicateError(p);
        if (!p.bool_value()) continue;
      }
      Value item;
      if (macro_ == MacroKind::kFilter) {
        item = f.locals[slot_];
      } else if (filtered) {
        item = second_->Eval(f);
      } else {
        item = std::move(p);
      }
      if (item.is_error_or_unknown()) return item;
      if (macro_ == MacroKind::kTransformMap ||
          macro_ == MacroKind::kTransformMapFilter) {
        out_map.emplace_back(f.locals[slot_], std::move(item));
      } else {
        out.push_back(std::move(item));
      }
    }
    switch (macro_) {
      case MacroKind::kAll:
      case MacroKind::kAll2:
        return error ? *error : Value::Bool(true);
      case MacroKind::kExists:
      case MacroKind::kExists2:
        return error ? *error : Value::Bool(false);
      case MacroKind::kExistsOne:
      case MacroKind::kExistsOne2:
        return Value::Bool(count == 1);
      case MacroKind::kTransformMap:
      case MacroKind::kTransformMapFilter:
        return Value::Map(
            std::make_shared<const VectorMapRep>(std::move(out_map)));
      default:
        return Value::List(std::move(out));
    }
  }

 private:
  static Value PredicateError(const Value& p) {
    return Value::Error(absl::StrCat("predicate result is '",
                                     std::string(p.TypeName()),
                                     "', expected bool"));
  }
  MacroKind macro_;
  NodePtr range_;
  int slot_;
  int slot2_;
  NodePtr first_;
  NodePtr second_;
};

}  // namespace

NodePtr MakeComprehension(MacroKind macro, NodePtr range, int local_slot,
                          int local_slot2, NodePtr first, NodePtr second) {
  return std::make_unique<ComprehensionNode>(
      macro, std::move(range), local_slot, local_slot2, std::move(first),
      std::move(second));
}

}  // namespace reconnect::cel::runtime_internal
