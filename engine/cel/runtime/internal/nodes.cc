#include "engine/cel/runtime/internal/nodes.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/cel/checker/types.h"
#include "engine/cel/runtime/internal/fields.h"
#include "engine/cel/runtime/internal/message_builder.h"

namespace reconnect::cel::runtime_internal {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

Value CostExceeded(const Frame& f) {
  return Value::Error(absl::StrCat("evaluation cost exceeds ", f.max_cost,
                                   " (limit max_cost)"));
}

namespace {

// Returns a copy that borrows the data of `v` rather than sharing ownership,
// so that reading a constant touches no reference count.
Value Borrow(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      return Value::StringRef(&v.string_value());
    case Value::Kind::kBytes:
      return Value::BytesRef(&v.string_value());
    case Value::Kind::kList:
      return Value::ListRef(&v.list());
    case Value::Kind::kMap:
      return Value::MapRef(&v.map());
    default:
      return v;
  }
}

class ConstantNode final : public Node {
 public:
  explicit ConstantNode(Value v) : v_(std::move(v)), borrowed_(Borrow(v_)) {}
  Value DoEval(Frame&) const override { return borrowed_; }
  const Value* constant() const override { return &v_; }

 private:
  Value v_;
  Value borrowed_;
};

class FactNode final : public Node {
 public:
  explicit FactNode(int slot) : slot_(slot) {}
  Value DoEval(Frame& f) const override { return f.Fact(slot_); }
  int fact() const override { return slot_; }

 private:
  int slot_;
};

class InputNode final : public Node {
 public:
  explicit InputNode(int index) : index_(index) {}
  Value DoEval(Frame& f) const override {
    const Message* m = f.inputs[index_];
    if (m == nullptr) return Value::Error("input is not bound");
    return MessageToValue(*m, nullptr);
  }

 private:
  int index_;
};

class VariableNode final : public Node {
 public:
  explicit VariableNode(int index) : index_(index) {}
  Value DoEval(Frame& f) const override { return f.variables[index_]; }

 private:
  int index_;
};

class DefinitionNode final : public Node {
 public:
  explicit DefinitionNode(int index) : index_(index) {}
  Value DoEval(Frame& f) const override { return f.Def(index_); }
  Shape shape() const override { return Shape::kDefinition; }
  int definition() const override { return index_; }

 private:
  int index_;
};

class LocalNode final : public Node {
 public:
  explicit LocalNode(int slot) : slot_(slot) {}
  Value DoEval(Frame& f) const override { return f.locals[slot_]; }

 private:
  int slot_;
};

class SelectNode final : public Node {
 public:
  SelectNode(NodePtr operand, std::string name, const FieldDescriptor* field,
             bool test_only)
      : operand_(std::move(operand)),
        name_(std::move(name)),
        key_(Value::StringRef(&name_)),
        field_(field),
        test_only_(test_only) {}

  Value DoEval(Frame& f) const override {
    Value v = operand_->Eval(f);
    switch (v.kind()) {
      case Value::Kind::kError:
      case Value::Kind::kUnknown:
        return v;
      case Value::Kind::kMessage: {
        const Message& m = v.message();
        const FieldDescriptor* fd = field_;
        if (fd == nullptr || fd->containing_type() != m.GetDescriptor()) {
          fd = FindFieldOrExtension(m.GetDescriptor(), name_);
        }
        if (fd == nullptr) {
          return Value::Error(absl::StrCat("no such field '", name_, "'"));
        }
        if (test_only_) return Value::Bool(HasField(m, fd));
        // Sub-values share ownership with the message value, if it has one.
        return ReadFieldOf(v, m, fd, f.set.strong_enums());
      }
      case Value::Kind::kMap: {
        std::optional<Value> found = v.map().Find(key_);
        if (test_only_) return Value::Bool(found.has_value());
        if (!found) return Value::Error(absl::StrCat("no such key: ", name_));
        return *found;
      }
      default:
        return Value::Error(absl::StrCat("type '", std::string(v.TypeName()),
                                         "' does not support field selection"));
    }
  }

 private:
  static Value ReadFieldOf(const Value& holder, const Message& m,
                           const FieldDescriptor* fd, bool strong_enums) {
    // Values read from an owned message must keep it alive; a borrowed
    // message (an input) outlives the evaluation.
    return ReadField(m, fd, OwnerOf(holder), strong_enums);
  }
  static const std::shared_ptr<const void>& OwnerOf(const Value& v) {
    return v.owner();
  }

  NodePtr operand_;
  std::string name_;
  Value key_;
  const FieldDescriptor* field_;
  bool test_only_;
};

// A call. The commonest calls in conditions, a comparison of a value with a
// constant number (`x >= 30`, `x == 2`) and `x in` a constant list of ints
// (enum values), are specialised when planned: when `x` turns out to be of
// the constant's kind, they compare directly, without building the argument
// vector or dispatching on kinds, and with the same cost as the general path.
// Anything else (another kind, an error, an unknown) takes the general path.
class CallNode final : public Node {
 public:
  CallNode(Function fn, std::vector<NodePtr> args)
      : fn_(fn), args_(std::move(args)) {
    Specialise();
  }
  Value DoEval(Frame& f) const override {
    absl::InlinedVector<Value, 3> values;
    if (fast_ != Fast::kNone) {
      Value x = args_[0]->Eval(f);
      // The constant's own evaluation, as the general path counts it (and,
      // over the budget, marks the error with the constant's site).
      if (ABSL_PREDICT_FALSE(++f.cost > f.max_cost)) {
        Value exceeded = CostExceeded(f);
        exceeded.set_error_site(args_[1]->site());
        values.push_back(std::move(x));
        values.push_back(std::move(exceeded));
        return Finish(f, values);
      }
      if (std::optional<bool> b = EvalFast(f, x)) {
        if (f.cost > f.max_cost) return CostExceeded(f);
        return Value::Bool(*b);
      }
      values.push_back(std::move(x));
      values.push_back(*args_[1]->constant());
      return Finish(f, values);
    }
    values.reserve(args_.size());
    for (const auto& a : args_) values.push_back(a->Eval(f));
    return Finish(f, values);
  }
  Shape shape() const override {
    if (fn_ == Function::kNot) return Shape::kNot;
    return detail().empty() ? Shape::kOther : Shape::kCompare;
  }
  std::string_view detail() const override {
    switch (fn_) {
      case Function::kEq:
        return "==";
      case Function::kNe:
        return "!=";
      case Function::kLt:
        return "<";
      case Function::kLe:
        return "<=";
      case Function::kGt:
        return ">";
      case Function::kGe:
        return ">=";
      case Function::kIn:
        return "in";
      default:
        return {};
    }
  }
  size_t operand_count() const override { return args_.size(); }
  const Node* operand(size_t i) const override { return args_[i].get(); }

 private:
  enum class Fast : uint8_t { kNone, kCompareInt, kCompareDouble, kInInts };

  // The general path, once the arguments are evaluated: work that grows
  // with the size of the arguments costs in proportion.
  Value Finish(Frame& f, const absl::InlinedVector<Value, 3>& values) const {
    for (const Value& v : values) {
      switch (v.kind()) {
        case Value::Kind::kString:
        case Value::Kind::kBytes:
          f.cost += static_cast<int64_t>(v.string_value().size() / 32);
          break;
        case Value::Kind::kList:
          f.cost += static_cast<int64_t>(v.list().size());
          break;
        case Value::Kind::kMap:
          f.cost += static_cast<int64_t>(v.map().size());
          break;
        default:
          break;
      }
    }
    if (f.cost > f.max_cost) return CostExceeded(f);
    return Apply(fn_, values.data(), values.size(), f.set.limits());
  }

  // `x OP constant`, when `x` is of the kind specialised for; nullopt
  // otherwise. Adds the cost the general path would (the list's size).
  std::optional<bool> EvalFast(Frame& f, const Value& x) const {
    switch (fast_) {
      case Fast::kCompareInt:
        if (x.kind() != Value::Kind::kInt) return std::nullopt;
        return Holds(x.int_value(), int_);
      case Fast::kCompareDouble:
        if (x.kind() != Value::Kind::kDouble) return std::nullopt;
        return Holds(x.double_value(), double_);
      case Fast::kInInts:
        if (x.kind() != Value::Kind::kInt) return std::nullopt;
        f.cost += static_cast<int64_t>(list_size_);
        return std::binary_search(ints_.begin(), ints_.end(), x.int_value());
      case Fast::kNone:
        break;
    }
    return std::nullopt;
  }

  // A comparison of two numbers of one kind, as CEL's: NaN compares false
  // (and unequal), as IEEE's operators have it.
  template <typename T>
  bool Holds(T a, T b) const {
    switch (fn_) {
      case Function::kEq:
        return a == b;
      case Function::kNe:
        return a != b;
      case Function::kLt:
        return a < b;
      case Function::kLe:
        return a <= b;
      case Function::kGt:
        return a > b;
      default:
        return a >= b;
    }
  }

  void Specialise() {
    if (args_.size() != 2 || args_[1]->constant() == nullptr) return;
    const Value& c = *args_[1]->constant();
    switch (fn_) {
      case Function::kEq:
      case Function::kNe:
      case Function::kLt:
      case Function::kLe:
      case Function::kGt:
      case Function::kGe:
        if (c.kind() == Value::Kind::kInt) {
          fast_ = Fast::kCompareInt;
          int_ = c.int_value();
        } else if (c.kind() == Value::Kind::kDouble) {
          fast_ = Fast::kCompareDouble;
          double_ = c.double_value();
        }
        break;
      case Function::kIn:
        if (c.kind() != Value::Kind::kList) break;
        for (size_t i = 0; i < c.list().size(); ++i) {
          const Value e = c.list().at(i);
          if (e.kind() != Value::Kind::kInt) return;  // 1 == 1u == 1.0
          ints_.push_back(e.int_value());
        }
        std::sort(ints_.begin(), ints_.end());
        list_size_ = c.list().size();
        fast_ = Fast::kInInts;
        break;
      default:
        break;
    }
  }

  Function fn_;
  std::vector<NodePtr> args_;
  Fast fast_ = Fast::kNone;
  int64_t int_ = 0;
  double double_ = 0;
  std::vector<int64_t> ints_;  // sorted
  size_t list_size_ = 0;
};

Value LogicalOverloadError(const char* fn, const Value& a, const Value& b) {
  return Value::Error(absl::StrCat("no matching overload for '", fn,
                                   "' applied to (", std::string(a.TypeName()),
                                   ", ", std::string(b.TypeName()), ")"));
}

// CEL's && and || are commutative over errors: a definite answer from either
// side wins over an error from the other.
class AndNode final : public Node {
 public:
  AndNode(NodePtr a, NodePtr b) : a_(std::move(a)), b_(std::move(b)) {}
  Value DoEval(Frame& f) const override {
    Value l = a_->Eval(f);
    if (l.kind() == Value::Kind::kBool && !l.bool_value()) return l;
    Value r = b_->Eval(f);
    if (r.kind() == Value::Kind::kBool && !r.bool_value()) return r;
    if (l.kind() == Value::Kind::kBool && r.kind() == Value::Kind::kBool)
      return r;
    if (auto o = LogicalOutcome(l, r)) return *std::move(o);
    return LogicalOverloadError("_&&_", l, r);
  }
  Shape shape() const override { return Shape::kAnd; }
  size_t operand_count() const override { return 2; }
  const Node* operand(size_t i) const override {
    return i == 0 ? a_.get() : b_.get();
  }

 private:
  NodePtr a_, b_;
};

class OrNode final : public Node {
 public:
  OrNode(NodePtr a, NodePtr b) : a_(std::move(a)), b_(std::move(b)) {}
  Value DoEval(Frame& f) const override {
    Value l = a_->Eval(f);
    if (l.kind() == Value::Kind::kBool && l.bool_value()) return l;
    Value r = b_->Eval(f);
    if (r.kind() == Value::Kind::kBool && r.bool_value()) return r;
    if (l.kind() == Value::Kind::kBool && r.kind() == Value::Kind::kBool)
      return r;
    if (auto o = LogicalOutcome(l, r)) return *std::move(o);
    return LogicalOverloadError("_||_", l, r);
  }
  Shape shape() const override { return Shape::kOr; }
  size_t operand_count() const override { return 2; }
  const Node* operand(size_t i) const override {
    return i == 0 ? a_.get() : b_.get();
  }

 private:
  NodePtr a_, b_;
};

class ConditionalNode final : public Node {
 public:
  ConditionalNode(NodePtr c, NodePtr a, NodePtr b)
      : c_(std::move(c)), a_(std::move(a)), b_(std::move(b)) {}
  Value DoEval(Frame& f) const override {
    Value c = c_->Eval(f);
    if (c.is_error_or_unknown()) return c;
    if (c.kind() != Value::Kind::kBool) {
      return Value::Error(
          absl::StrCat("no matching overload for '_?_:_' applied to (",
                       std::string(c.TypeName()), ", ...)"));
    }
    return c.bool_value() ? a_->Eval(f) : b_->Eval(f);
  }

 private:
  NodePtr c_, a_, b_;
};

class MatchesConstantNode final : public Node {
 public:
  MatchesConstantNode(NodePtr s, std::unique_ptr<RE2> re)
      : s_(std::move(s)), re_(std::move(re)) {}
  Value DoEval(Frame& f) const override {
    Value s = s_->Eval(f);
    if (s.is_error_or_unknown()) return s;
    if (s.kind() != Value::Kind::kString) {
      return Value::Error(
          absl::StrCat("no matching overload for 'matches' applied to (",
                       std::string(s.TypeName()), ", string)"));
    }
    f.cost += static_cast<int64_t>(s.string_value().size() / 32);
    if (f.cost > f.max_cost) return CostExceeded(f);
    return Value::Bool(RE2::PartialMatch(s.string_value(), *re_));
  }

 private:
  NodePtr s_;
  std::unique_ptr<RE2> re_;
};

class ListNode final : public Node {
 public:
  explicit ListNode(std::vector<NodePtr> elems) : elems_(std::move(elems)) {}
  Value DoEval(Frame& f) const override {
    std::vector<Value> out;
    out.reserve(elems_.size());
    bool strict = false;
    for (const auto& e : elems_) {
      Value v = e->Eval(f);
      if (v.is_error()) return v;
      strict = strict || v.is_unknown();
      out.push_back(std::move(v));
    }
    if (ABSL_PREDICT_FALSE(strict))
      return *StrictOutcome(out.data(), out.size());
    return Value::List(std::move(out));
  }

 private:
  std::vector<NodePtr> elems_;
};

class StructNode final : public Node {
 public:
  StructNode(const Message* prototype,
             std::vector<std::pair<const FieldDescriptor*, NodePtr>> fields)
      : prototype_(prototype), fields_(std::move(fields)) {}
  Value DoEval(Frame& f) const override {
    std::shared_ptr<Message> m(prototype_->New());
    std::optional<Value> unknown;
    for (const auto& [field, node] : fields_) {
      const Value v = node->Eval(f);
      if (v.is_error()) return v;
      if (ABSL_PREDICT_FALSE(v.is_unknown())) {
        MergeUnknown(unknown, v);
        continue;
      }
      if (std::string error = SetFieldFromValue(*m, field, v); !error.empty()) {
        return Value::Error(std::move(error));
      }
    }
    if (unknown) return *std::move(unknown);
    const Message& ref = *m;
    return MessageToValue(ref, std::move(m));
  }

 private:
  const Message* prototype_;
  std::vector<std::pair<const FieldDescriptor*, NodePtr>> fields_;
};

class MapNode final : public Node {
 public:
  explicit MapNode(std::vector<std::pair<NodePtr, NodePtr>> entries)
      : entries_(std::move(entries)) {}
  Value DoEval(Frame& f) const override {
    std::vector<std::pair<Value, Value>> out;
    out.reserve(entries_.size());
    // Strict: the first error; else any unknowns, merged.
    std::optional<Value> unknown;
    for (const auto& [k, v] : entries_) {
      Value key = k->Eval(f);
      if (key.is_error()) return key;
      switch (key.kind()) {
        case Value::Kind::kInt:
        case Value::Kind::kUint:
        case Value::Kind::kBool:
        case Value::Kind::kString:
          break;
        case Value::Kind::kUnknown:
          MergeUnknown(unknown, key);
          break;
        default:
          return Value::Error(absl::StrCat("unsupported key type: ",
                                           std::string(key.TypeName())));
      }
      Value val = v->Eval(f);
      if (val.is_error()) return val;
      if (ABSL_PREDICT_FALSE(val.is_unknown())) MergeUnknown(unknown, val);
      if (unknown) continue;
      for (const auto& [existing, unused] : out) {
        if (ValueEquals(existing, key)) {
          return Value::Error(
              absl::StrCat("Failed with repeated key: ", key.DebugString()));
        }
      }
      out.emplace_back(std::move(key), std::move(val));
    }
    if (unknown) return *std::move(unknown);
    return Value::Map(std::make_shared<const VectorMapRep>(std::move(out)));
  }

 private:
  std::vector<std::pair<NodePtr, NodePtr>> entries_;
};

}  // namespace

NodePtr MakeConstant(Value v) {
  return std::make_unique<ConstantNode>(std::move(v));
}
NodePtr MakeFact(int slot) { return std::make_unique<FactNode>(slot); }
NodePtr MakeInput(int index) { return std::make_unique<InputNode>(index); }
NodePtr MakeVariable(int index) {
  return std::make_unique<VariableNode>(index);
}
NodePtr MakeDefinition(int index) {
  return std::make_unique<DefinitionNode>(index);
}
NodePtr MakeLocal(int slot) { return std::make_unique<LocalNode>(slot); }
NodePtr MakeSelect(NodePtr operand, std::string name,
                   const FieldDescriptor* field, bool test_only) {
  return std::make_unique<SelectNode>(std::move(operand), std::move(name),
                                      field, test_only);
}
NodePtr MakeCall(Function fn, std::vector<NodePtr> args) {
  return std::make_unique<CallNode>(fn, std::move(args));
}

namespace {

class EnumConversionNode final : public Node {
 public:
  EnumConversionNode(const google::protobuf::EnumDescriptor* type, NodePtr arg)
      : type_(type), arg_(std::move(arg)) {}

  Value DoEval(Frame& f) const override {
    Value v = arg_->Eval(f);
    switch (v.kind()) {
      case Value::Kind::kError:
      case Value::Kind::kUnknown:
        return v;
      case Value::Kind::kInt:
        if (v.int_value() < std::numeric_limits<int32_t>::min() ||
            v.int_value() > std::numeric_limits<int32_t>::max()) {
          return Value::Error(absl::StrCat("range error: ", v.int_value(),
                                           " is not a value of enum ",
                                           type_->full_name()));
        }
        return Value::Enum(type_, static_cast<int32_t>(v.int_value()));
      case Value::Kind::kString:
        if (const auto* ev = type_->FindValueByName(v.string_value())) {
          return Value::Enum(type_, ev->number());
        }
        return Value::Error(absl::StrCat("invalid name '", v.string_value(),
                                         "' for enum ", type_->full_name()));
      case Value::Kind::kEnum:
        if (v.enum_type() == type_) return v;
        break;
      default:
        break;
    }
    return Value::Error(absl::StrCat("no matching overload for '",
                                     type_->full_name(), "' applied to '",
                                     std::string(v.TypeName()), "'"));
  }

 private:
  const google::protobuf::EnumDescriptor* type_;
  NodePtr arg_;
};

}  // namespace

NodePtr MakeEnumConversion(const google::protobuf::EnumDescriptor* type,
                           NodePtr arg) {
  return std::make_unique<EnumConversionNode>(type, std::move(arg));
}
NodePtr MakeAnd(NodePtr a, NodePtr b) {
  return std::make_unique<AndNode>(std::move(a), std::move(b));
}
NodePtr MakeOr(NodePtr a, NodePtr b) {
  return std::make_unique<OrNode>(std::move(a), std::move(b));
}
NodePtr MakeConditional(NodePtr c, NodePtr a, NodePtr b) {
  return std::make_unique<ConditionalNode>(std::move(c), std::move(a),
                                           std::move(b));
}
NodePtr MakeMatchesConstant(NodePtr subject, std::unique_ptr<RE2> re) {
  return std::make_unique<MatchesConstantNode>(std::move(subject),
                                               std::move(re));
}
NodePtr MakeList(std::vector<NodePtr> elems) {
  return std::make_unique<ListNode>(std::move(elems));
}
NodePtr MakeStruct(
    const Message* prototype,
    std::vector<std::pair<const FieldDescriptor*, NodePtr>> fields) {
  return std::make_unique<StructNode>(prototype, std::move(fields));
}
NodePtr MakeMap(std::vector<std::pair<NodePtr, NodePtr>> entries) {
  return std::make_unique<MapNode>(std::move(entries));
}
}  // namespace reconnect::cel::runtime_internal
