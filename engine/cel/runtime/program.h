#ifndef RECONNECT_ENGINE_CEL_RUNTIME_PROGRAM_H_
#define RECONNECT_ENGINE_CEL_RUNTIME_PROGRAM_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cel/checker/types.h"
#include "engine/cel/common/source.h"
#include "engine/cel/common/value.h"
#include "engine/cel/runtime/options.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace reconnect::cel {

namespace runtime_internal {
class Node;
class Planner;
struct Frame;
}  // namespace runtime_internal

// A path of fields from an input message, read at most once per evaluation.
struct FactPath {
  int input = 0;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  // Dotted field names below the input, e.g. "scores.pcs_total".
  std::string display;
  // Whether the slot holds the presence of the last field (`has(...)`, as
  // CEL defines it) rather than its value.
  bool presence = false;
  // The slot of the field's value: this slot's own, or, for a presence
  // slot, the value slot of the same path. An unknown names this slot.
  int attribute = -1;
  // The reflection of the generated class of the message that holds each
  // field (null for types of other pools), for an input of its generated
  // class, whose sub-messages are of their generated classes too: looked up
  // once, when planned, not on every read.
  std::vector<const google::protobuf::Reflection*> reflections = {};
};

// A set of compiled expressions that share inputs, constants, definitions
// and fact slots. Immutable and thread-safe once built: any number of
// threads may evaluate it at once, each through its own Evaluation.
class ExpressionSet {
 public:
  ~ExpressionSet();
  ExpressionSet(const ExpressionSet&) = delete;
  ExpressionSet& operator=(const ExpressionSet&) = delete;

  const std::vector<FactPath>& facts() const { return facts_; }
  const Limits& limits() const { return limits_; }
  size_t size() const { return roots_.size(); }
  // Whether enum values are typed by their enum (see
  // ExpressionSetBuilder::UseStrongEnums) rather than ints.
  bool strong_enums() const { return strong_enums_; }

  // Where an error value arose: the id of the expression (a definition's
  // own, when it arose there) and the line and column in that expression's
  // text. Nullopt for errors that are not from this set.
  struct ErrorSite {
    int expression = -1;
    SourcePosition position;
  };
  std::optional<ErrorSite> SiteOf(const Value& error) const;

 private:
  friend class ExpressionSetBuilder;
  friend class Evaluation;
  friend struct runtime_internal::Frame;
  friend class runtime_internal::Planner;
  ExpressionSet();

  // Unique in the process, for as long as it runs: evaluations reuse the
  // frames of earlier ones of the same set (see Evaluation).
  const uint64_t id_;
  Limits limits_;
  bool strong_enums_ = false;
  std::vector<std::unique_ptr<runtime_internal::Node>> roots_;
  std::vector<FactPath> facts_;
  std::vector<ErrorSite> sites_ = {ErrorSite{}};  // site 0: unknown
  // Each site's expression as CEL (ExprToCel), for explanations.
  std::vector<std::string> site_text_ = {""};
  std::vector<int> def_roots_;          // definition index -> expression id
  std::vector<std::string> def_names_;  // definition index -> name
  size_t inputs_ = 0;
  // Per input, the reflection of its type's generated class, or null (see
  // FactPath::reflections).
  std::vector<const google::protobuf::Reflection*> input_reflections_;
  size_t variables_ = 0;
  size_t locals_ = 0;
  // The prototype to create messages of type `d` from: the generated one, or
  // one from a dynamic factory this set owns for descriptors of other pools.
  const google::protobuf::Message* Prototype(
      const google::protobuf::Descriptor* d);
  std::shared_ptr<google::protobuf::MessageFactory> dynamic_factory_;
  // Values that nodes borrow; kept alive as long as the set.
  std::vector<std::shared_ptr<const void>> keep_alive_;
};

// Compiles expressions into an ExpressionSet. Not thread-safe.
class ExpressionSetBuilder {
 public:
  // `pool` holds the input message types and enums; it must outlive the
  // builder and the set. `container` qualifies names as in CEL.
  ExpressionSetBuilder(const google::protobuf::DescriptorPool* pool,
                       std::string container, Limits limits = {});
  ~ExpressionSetBuilder();
  ExpressionSetBuilder(const ExpressionSetBuilder&) = delete;
  ExpressionSetBuilder& operator=(const ExpressionSetBuilder&) = delete;

  // A variable bound per evaluation to a message of type `type`. Field paths
  // from it become fact slots. Returns its index for Evaluation::SetInput.
  int DeclareInput(std::string name, const google::protobuf::Descriptor* type);
  // A variable bound per evaluation to any value. Returns its index.
  int DeclareVariable(std::string name, Type type);
  // A named constant, folded into the programs that use it.
  void DeclareConstant(std::string name, Value value, Type type);

  // Types enum values by their enum, as CEL's strong enum typing does:
  // `Color.RED` and enum fields are values of type `Color`, `Color(1)` and
  // `Color('RED')` convert, and `int(c)` gives the number. By default enums
  // are ints (CEL's legacy typing, as cel-go and cel-cpp default to), which
  // is what rule sets use. Call before compiling anything.
  void UseStrongEnums();

  struct Compiled {
    int id = -1;  // -1 when `issues` is not empty
    Type type;
    std::vector<Issue> issues;
    // The fact slots the expression reads, directly or through definitions.
    std::vector<int> facts;
    // The error sites of this expression, with their line and column in
    // `text` (see ExpressionSet::SiteOf).
    std::vector<std::pair<uint32_t, SourcePosition>> sites;
  };
  // Parses, checks and plans one expression. Issues carry line:col within
  // `text`.
  Compiled Compile(std::string_view text);

  // As Compile, but without enforcing the type check: names that do not
  // resolve and calls that match no overload become errors raised when (and
  // only if) they are evaluated, as CEL specifies for unchecked expressions.
  // For tools and conformance; rule sets are always checked.
  Compiled CompileUnchecked(std::string_view text);

  // Makes `name` stand for the compiled expression `c` in later compilations;
  // its value is computed at most once per evaluation.
  void DeclareDefinition(std::string name, const Compiled& c);

  // Finishes the set. The builder must not be used afterwards.
  std::shared_ptr<const ExpressionSet> Build();

  struct State;  // opaque; defined in program.cc

 private:
  Compiled CompileImpl(std::string_view text, bool checked);
  std::unique_ptr<State> state_;
};

// Why an expression has the value it has: the smallest part that decided
// it. An && that is false is explained by an operand that is false (the
// second, when the first is true or an error, as CEL's commutative &&
// absorbs errors); an || that is true by an operand that is true; either,
// when it is an error, by an operand that is an error; a definition by the
// clause inside it. A false || is the clause, with each of its operands
// explained in `alternatives`; a true && likewise. Anything else is the
// clause itself.
struct Explanation {
  // The deciding clause as CEL, e.g. "assessment.scores.pcs_total >=
  // params.pcs_high", and its value ("false").
  std::string clause;
  std::string value;
  // The values it read: its operands (of a comparison, a negation, a call,
  // or the range of a comprehension), each as CEL with its value; literals
  // are left out. Enum values are named when an operand is an enum field.
  std::vector<std::pair<std::string, std::string>> operands;
  // A false || (or a true &&): each operand, explained.
  std::vector<Explanation> alternatives;
  // For a comparison, as it came out: "24 < 30" for a false ">=".
  std::string comparison;
  // The definitions entered on the way, outermost first.
  std::vector<std::string> definitions;
  // The expression the clause is written in (a definition's own, inside
  // one), and where in it.
  int expression = -1;
  SourcePosition position;
  // The clause's site (as ExpressionSet::SiteOf numbers error sites); 0
  // for a literal.
  uint32_t site = 0;
};

// One evaluation over an ExpressionSet: holds the inputs, the fact and
// definition caches, and the iteration budget. Not thread-safe; cheap to
// create: its frame is taken from the thread's earlier evaluations of the
// same set, when there is one, and cleared and given back when it ends.
// The inputs must outlive the Evaluation and any value it returns.
class Evaluation {
 public:
  explicit Evaluation(const ExpressionSet& set);
  ~Evaluation();
  Evaluation(const Evaluation&) = delete;
  Evaluation& operator=(const Evaluation&) = delete;

  void SetInput(int index, const google::protobuf::Message& message);
  void SetVariable(int index, Value value);

  // Evaluates expression `id`. A CEL error is an error value, never a throw.
  Value Evaluate(int id);

  // The value of fact slot `slot` (read once, then cached).
  const Value& Fact(int slot);

  // Partial evaluation, as CEL defines it: facts that are absent are
  // unknown, and so is every part of an expression that depends on them
  // (see ExprValue.unknown in cel-spec's eval.proto). A fact is absent when
  // its field tracks presence and is not set, or is an enum without
  // presence at its zero value (proto3 reserves zero for "unspecified").
  // Message, list and map facts are never absent. Call before evaluating.
  void SetPartial(bool partial);
  // Whether fact slot `slot`'s field is absent (as SetPartial defines it).
  bool Absent(int slot);

  // For an expression whose value is unknown: the condition that is left
  // once the known facts are folded in, as CEL over the absent facts, e.g.
  // "assessment.scores.pcs_total >= 30". Known operands appear as their
  // values (enum values by name); `has()` of a fact that the rest of an
  // && also reads is left out, the residual supposing it measured.
  // Definitions are expanded. Empty when the value is not unknown. A fact
  // whose slot has a non-empty name in `fact_names` (by slot) is written by
  // that name.
  std::string Residual(int id, const std::vector<std::string>& fact_names = {});

  // The evaluation cost spent so far, over every call on this Evaluation.
  int64_t cost() const;

  // Evaluates expression `id` and says what decided its value, by
  // evaluating the parts on the way one by one (exact: the program runs,
  // nothing is re-derived from text). Costs a few evaluations of the
  // expression; an ordinary Evaluate pays nothing for it. The reference is
  // valid until the next Explain on this Evaluation (a definition's
  // explanation is kept for the evaluation's life and not copied).
  const Explanation& Explain(int id);

 private:
  // Fills `scratch` and returns it, or returns a definition's memoised
  // explanation.
  const Explanation& ExplainNode(const runtime_internal::Node* node, int depth,
                                 Explanation& scratch);
  // Definition `index` explained (with its own name first in
  // `definitions`), once per evaluation: many conditions share a
  // definition, and it is the same every time.
  const Explanation& ExplainDefinition(int index, int depth);
  struct ResidualText;
  ResidualText ResidualOf(const runtime_internal::Node* node, const Value& v,
                          int depth, const std::vector<std::string>& names);

 private:
  std::unique_ptr<runtime_internal::Frame> frame_;
  // Definitions explained so far, by index; made on the first Explain.
  std::unique_ptr<std::vector<std::unique_ptr<Explanation>>> explained_;
  // What the last Explain returned, when it was not a definition's.
  std::unique_ptr<Explanation> last_;
};

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_RUNTIME_PROGRAM_H_
