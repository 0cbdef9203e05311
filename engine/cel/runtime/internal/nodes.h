#ifndef RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_NODES_H_
#define RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_NODES_H_

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/base/optimization.h"
#include "engine/cel/common/ast.h"
#include "engine/cel/common/value.h"
#include "engine/cel/runtime/internal/functions.h"
#include "engine/cel/runtime/program.h"
#include "re2/re2.h"

namespace reconnect::cel::runtime_internal {

// The state of one evaluation. Facts and definitions are computed lazily and
// at most once; locals hold comprehension variables by pre-assigned slot.
struct Frame {
  explicit Frame(const ExpressionSet& s);
  // Back to the state of a new frame of the same set, keeping the memory.
  void Clear();
  // A frame for an evaluation of `set`: one this thread used before for the
  // same set, cleared, or a new one.
  static std::unique_ptr<Frame> Take(const ExpressionSet& set);
  // Clears `frame` and keeps it for the thread's next Take.
  static void GiveBack(std::unique_ptr<Frame> frame);

  const Value& Fact(int slot);
  Value Def(int index);

  const ExpressionSet& set;
  const uint64_t set_id;  // ExpressionSet::id_
  std::vector<const google::protobuf::Message*> inputs;
  // Per input: whether it is of its type's generated class, so that the
  // reflections planned in FactPath::reflections apply.
  std::vector<uint8_t> own_class;
  std::vector<Value> variables;
  std::vector<Value> facts;
  std::vector<uint8_t> fact_loaded;
  std::vector<Value> defs;
  std::vector<uint8_t> def_state;  // 0: not yet, 1: done
  std::vector<Value> locals;
  int64_t iterations = 0;
  int64_t cost = 0;
  const int64_t max_cost;
  // Partial evaluation: absent facts read as unknowns.
  bool partial = false;
};

// The message that holds the last field of fact `path` in `input`.
const google::protobuf::Message& FactHolder(
    const google::protobuf::Message& input, const FactPath& path);
// Whether field `f` of `holder` is absent (see Evaluation::SetPartial).
bool FieldAbsent(const google::protobuf::Message& holder,
                 const google::protobuf::FieldDescriptor* f);

// Adds the unknown `u` to `merged` (as && and || merge unknowns).
inline void MergeUnknown(std::optional<Value>& merged, const Value& u) {
  merged = merged ? *LogicalOutcome(*merged, u) : u;
}

// The error for an evaluation over its cost budget.
Value CostExceeded(const Frame& f);

// A planned expression node: every name is resolved, every constant folded.
class Node {
 public:
  virtual ~Node() = default;
  // An error that arises in this node (rather than passing through it from
  // an operand) is marked with the node's site, so that it can be traced to
  // its line and column.
  Value Eval(Frame& f) const {
    if (ABSL_PREDICT_FALSE(++f.cost > f.max_cost)) return CostExceeded(f);
    Value v = DoEval(f);
    if (ABSL_PREDICT_FALSE(v.is_error()) && v.error_site() == 0) {
      v.set_error_site(site_);
    }
    return v;
  }
  // The node's value when it is a constant, known at plan time.
  virtual const Value* constant() const { return nullptr; }
  void set_site(uint32_t site) { site_ = site; }
  uint32_t site() const { return site_; }

  // For explanations, which evaluate a node's operands one by one (never
  // on the path of an ordinary evaluation): what the node does, and its
  // operands in order.
  enum class Shape : uint8_t {
    kOther,
    kAnd,
    kOr,
    kNot,
    kCompare,  // ==, !=, <, <=, >, >= or in
    kDefinition,
    kComprehension,
  };
  virtual Shape shape() const { return Shape::kOther; }
  virtual size_t operand_count() const { return 0; }
  virtual const Node* operand(size_t) const { return nullptr; }
  // kCompare: the operator as CEL writes it ("<=").
  virtual std::string_view detail() const { return {}; }
  // kDefinition: the definition's index.
  virtual int definition() const { return -1; }
  // The fact slot the node reads, or -1.
  virtual int fact() const { return -1; }

 protected:
  virtual Value DoEval(Frame& f) const = 0;

 private:
  uint32_t site_ = 0;
};
using NodePtr = std::unique_ptr<Node>;

NodePtr MakeConstant(Value v);  // `v` must outlive the node's set
NodePtr MakeFact(int slot);
NodePtr MakeInput(int index);
NodePtr MakeVariable(int index);
NodePtr MakeDefinition(int index);
NodePtr MakeLocal(int slot);
// `field` is the resolved field when the operand's message type is known
// statically; null means look the name up at run time.
NodePtr MakeSelect(NodePtr operand, std::string name,
                   const google::protobuf::FieldDescriptor* field,
                   bool test_only);
NodePtr MakeCall(Function fn, std::vector<NodePtr> args);
// `Type(x)` for an enum type under strong enum typing: from an int in the
// int32 range, or from the name of one of its values.
NodePtr MakeEnumConversion(const google::protobuf::EnumDescriptor* type,
                           NodePtr arg);
NodePtr MakeAnd(NodePtr a, NodePtr b);
NodePtr MakeOr(NodePtr a, NodePtr b);
NodePtr MakeConditional(NodePtr c, NodePtr a, NodePtr b);
NodePtr MakeMatchesConstant(NodePtr subject, std::unique_ptr<RE2> re);
NodePtr MakeList(std::vector<NodePtr> elems);
// Builds a new message from `prototype`, one field per entry.
NodePtr MakeStruct(
    const google::protobuf::Message* prototype,
    std::vector<std::pair<const google::protobuf::FieldDescriptor*, NodePtr>>
        fields);
NodePtr MakeMap(std::vector<std::pair<NodePtr, NodePtr>> entries);
// `local_slot2` holds the second variable of two-variable macros (else -1).
NodePtr MakeComprehension(MacroKind macro, NodePtr range, int local_slot,
                          int local_slot2, NodePtr first, NodePtr second);

}  // namespace reconnect::cel::runtime_internal

#endif  // RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_NODES_H_
