#include "engine/cel/runtime/program.h"

#include <algorithm>
#include <atomic>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/cel/checker/checker.h"
#include "engine/cel/common/ast_debug.h"
#include "engine/cel/parser/parser.h"
#include "engine/cel/runtime/internal/functions.h"
#include "engine/cel/runtime/internal/nodes.h"
#include "google/protobuf/dynamic_message.h"

namespace reconnect::cel {

namespace {

// The reflection of `d`'s generated class; null for a type of another pool
// (whose pool may not live as long as a process-wide factory's prototypes).
const google::protobuf::Reflection* GeneratedReflection(
    const google::protobuf::Descriptor* d) {
  if (d->file()->pool() != google::protobuf::DescriptorPool::generated_pool()) {
    return nullptr;
  }
  return google::protobuf::MessageFactory::generated_factory()
      ->GetPrototype(d)
      ->GetReflection();
}

}  // namespace

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using runtime_internal::NodePtr;

namespace {
std::atomic<uint64_t> next_set_id{1};
}  // namespace

ExpressionSet::ExpressionSet() : id_(next_set_id.fetch_add(1)) {}
ExpressionSet::~ExpressionSet() = default;

std::optional<ExpressionSet::ErrorSite> ExpressionSet::SiteOf(
    const Value& error) const {
  if (!error.is_error() || error.error_site() == 0 ||
      error.error_site() >= sites_.size()) {
    return std::nullopt;
  }
  return sites_[error.error_site()];
}

const google::protobuf::Message* ExpressionSet::Prototype(const Descriptor* d) {
  if (d->file()->pool() == google::protobuf::DescriptorPool::generated_pool()) {
    return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
        d);
  }
  if (!dynamic_factory_) {
    dynamic_factory_ =
        std::make_shared<google::protobuf::DynamicMessageFactory>();
  }
  return dynamic_factory_->GetPrototype(d);
}

struct ExpressionSetBuilder::State {
  State(const google::protobuf::DescriptorPool* pool, std::string container,
        Limits l)
      : env(pool, std::move(container)), set(new ExpressionSet()) {
    set->limits_ = l;
  }

  struct Binding {
    enum class Kind { kInput, kVariable, kConstant, kDefinition } kind;
    int index = 0;           // input, variable or definition index
    Value constant;          // kConstant
    std::vector<int> facts;  // kDefinition: facts it reads
  };

  CheckerEnv env;
  std::unique_ptr<ExpressionSet> set;
  absl::flat_hash_map<std::string, Binding> bindings;
  std::vector<const Descriptor*> input_types;
  absl::flat_hash_map<std::string, int> fact_slots;  // "input:path" -> slot
};

namespace runtime_internal {

// Plans one checked expression into runtime nodes.
class Planner {
 public:
  Planner(ExpressionSetBuilder::State& st, const CheckResult& check,
          const Source& source, std::vector<Issue>& issues,
          std::vector<int>& facts, bool lenient)
      : st_(st),
        check_(check),
        source_(source),
        issues_(issues),
        facts_(facts),
        lenient_(lenient) {}

  // Plans `e`, and marks the errors that arise in it with its position.
  NodePtr Plan(const Expr& e) {
    NodePtr node = PlanNode(e);
    if (e.kind != ExprKind::kConstant) {
      auto& sites = st_.set->sites_;
      node->set_site(static_cast<uint32_t>(sites.size()));
      sites.push_back({static_cast<int>(st_.set->roots_.size()),
                       source_.PositionOf(e.offset)});
      st_.set->site_text_.push_back(ExprToCel(e));
    }
    return node;
  }

 private:
  NodePtr PlanNode(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kConstant:
        return PlanConstant(e.constant);
      case ExprKind::kIdent:
      case ExprKind::kSelect:
        return PlanNameOrSelect(e);
      case ExprKind::kCall:
        return PlanCall(e);
      case ExprKind::kList: {
        std::vector<NodePtr> elems;
        for (const auto& a : e.args) elems.push_back(Plan(*a));
        const bool constant = AllConstant(elems);
        return Fold(runtime_internal::MakeList(std::move(elems)), constant);
      }
      case ExprKind::kMap: {
        std::vector<std::pair<NodePtr, NodePtr>> entries;
        for (const auto& en : e.entries) {
          if (en.optional) Unsupported(en.offset, "optional map entries");
          entries.emplace_back(Plan(*en.key), Plan(*en.value));
        }
        bool constant = true;
        for (const auto& [k, v] : entries) {
          constant = constant && k->constant() && v->constant();
        }
        return Fold(runtime_internal::MakeMap(std::move(entries)), constant);
      }
      case ExprKind::kStruct:
        return PlanStruct(e);
      case ExprKind::kComprehension: {
        NodePtr range = Plan(*e.range);
        const int slot = static_cast<int>(st_.set->locals_++);
        const bool two = IsTwoVariableMacro(e.macro);
        const int slot2 = two ? static_cast<int>(st_.set->locals_++) : -1;
        locals_.emplace_back(e.iter_var, slot);
        if (two) locals_.emplace_back(e.iter_var2, slot2);
        NodePtr first = Plan(*e.args[0]);
        NodePtr second = e.args.size() > 1 ? Plan(*e.args[1]) : nullptr;
        locals_.pop_back();
        if (two) locals_.pop_back();
        return runtime_internal::MakeComprehension(
            e.macro, std::move(range), slot, slot2, std::move(first),
            std::move(second));
      }
    }
    return runtime_internal::MakeConstant(Value::Null());
  }

  void Unsupported(int32_t offset, std::string_view what) {
    issues_.push_back(
        {source_.PositionOf(offset),
         absl::StrCat(std::string(what),
                      " is outside the CEL subset this engine evaluates")});
  }

  NodePtr PlanStruct(const Expr& e) {
    // Checked expressions name a known type and its fields; an unchecked
    // one may not, and then raises the checker's complaint when evaluated.
    const auto ref = check_.references.find(e.id);
    const Descriptor* d =
        ref == check_.references.end()
            ? nullptr
            : st_.env.pool()->FindMessageTypeByName(ref->second.name);
    if (d == nullptr) {
      return Unresolved(e, absl::StrCat("unknown message type '", e.name, "'"));
    }
    std::vector<std::pair<const FieldDescriptor*, NodePtr>> fields;
    for (const auto& en : e.entries) {
      if (en.optional) Unsupported(en.offset, "optional field initializers");
      const FieldDescriptor* field = d->FindFieldByName(en.field);
      if (field == nullptr) {
        return Unresolved(e, absl::StrCat("undefined field '", en.field,
                                          "' on type '", d->full_name(), "'"));
      }
      fields.emplace_back(field, Plan(*en.value));
    }
    return runtime_internal::MakeStruct(st_.set->Prototype(d),
                                        std::move(fields));
  }

  // A name the checker could not resolve: an error raised at evaluation in
  // an unchecked expression, an issue otherwise.
  NodePtr Unresolved(const Expr& e, std::string message) {
    if (lenient_) {
      return runtime_internal::MakeConstant(Value::Error(std::move(message)));
    }
    issues_.push_back({source_.PositionOf(e.offset), std::move(message)});
    return runtime_internal::MakeConstant(Value::Null());
  }

  static bool AllConstant(const std::vector<NodePtr>& nodes) {
    for (const auto& n : nodes) {
      if (!n->constant()) return false;
    }
    return true;
  }

  // Evaluates, at plan time, a node whose inputs are all constants, so that
  // list literals, conversions such as timestamp('...') and arithmetic on
  // params cost nothing per evaluation. A node whose value is an error is
  // left to raise it at run time, where CEL's error semantics apply.
  NodePtr Fold(NodePtr node, bool inputs_constant) {
    if (!inputs_constant) return node;
    runtime_internal::Frame frame(*st_.set);
    Value v = node->Eval(frame);
    if (v.is_error()) return node;
    // The value may borrow strings from the node's constant inputs; they
    // live as long as the set.
    st_.set->keep_alive_.push_back(
        std::shared_ptr<const void>(std::move(node)));
    return runtime_internal::MakeConstant(std::move(v));
  }

  static NodePtr PlanConstant(const Constant& c) {
    switch (c.index()) {
      case 0:
        return runtime_internal::MakeConstant(Value::Null());
      case 1:
        return runtime_internal::MakeConstant(Value::Bool(std::get<bool>(c)));
      case 2:
        return runtime_internal::MakeConstant(Value::Int(std::get<int64_t>(c)));
      case 3:
        return runtime_internal::MakeConstant(
            Value::Uint(std::get<uint64_t>(c)));
      case 4:
        return runtime_internal::MakeConstant(
            Value::Double(std::get<double>(c)));
      case 5:
        return runtime_internal::MakeConstant(
            Value::String(std::get<std::string>(c)));
      default:
        return runtime_internal::MakeConstant(
            Value::Bytes(std::get<BytesConstant>(c).value));
    }
  }

  const Type* TypeOf(const Expr& e) const {
    auto it = check_.types.find(e.id);
    return it == check_.types.end() ? nullptr : &it->second;
  }

  int LocalSlot(const std::string& name) const {
    for (auto it = locals_.rbegin(); it != locals_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return -1;
  }

  void NoteFact(int slot) {
    if (std::find(facts_.begin(), facts_.end(), slot) == facts_.end()) {
      facts_.push_back(slot);
    }
  }

  // The slot of the value (or, with `presence`, of the presence) of the
  // field path `fields` from input `input`.
  int FactSlot(int input, std::vector<const FieldDescriptor*> fields,
               bool presence = false) {
    const int attribute = presence ? FactSlot(input, fields) : -1;
    std::string display;
    for (const auto* f : fields)
      absl::StrAppend(&display, display.empty() ? "" : ".", f->name());
    const std::string key = absl::StrCat(input, presence ? "?" : ":", display);
    auto [it, inserted] = st_.fact_slots.try_emplace(
        key, static_cast<int>(st_.set->facts_.size()));
    if (inserted) {
      std::vector<const google::protobuf::Reflection*> reflections;
      for (const FieldDescriptor* f : fields) {
        reflections.push_back(GeneratedReflection(f->containing_type()));
      }
      st_.set->facts_.push_back({input, std::move(fields), std::move(display),
                                 presence, presence ? attribute : it->second,
                                 std::move(reflections)});
    }
    return it->second;
  }

  // Plans an identifier or a selection. A chain of singular fields from an
  // input becomes one fact slot, read once per evaluation.
  NodePtr PlanNameOrSelect(const Expr& e) {
    auto ref = check_.references.find(e.id);
    if (ref != check_.references.end()) return PlanReference(e, ref->second);
    if (e.kind == ExprKind::kIdent) {
      // Reachable in unchecked mode only: an error if evaluated.
      return runtime_internal::MakeConstant(
          Value::Error(absl::StrCat("undeclared reference to '", e.name, "'")));
    }
    // Try to extend a fact path.
    int input = -1;
    std::vector<const FieldDescriptor*> fields;
    if (FactPathOf(e, input, fields)) {
      const int slot = FactSlot(input, fields);
      NoteFact(slot);
      if (!e.test_only) return runtime_internal::MakeFact(slot);
      // has(a.b.c) reads the presence of c, a fact of its own: report c.
      return runtime_internal::MakeFact(
          FactSlot(input, std::move(fields), /*presence=*/true));
    }
    NodePtr operand = Plan(*e.operand);
    const FieldDescriptor* field = nullptr;
    if (const Type* t = TypeOf(*e.operand);
        t && t->kind() == Type::Kind::kMessage) {
      field = FindFieldOrExtension(t->descriptor(), e.name);
    }
    return runtime_internal::MakeSelect(std::move(operand), e.name, field,
                                        e.test_only);
  }

  // Whether `e` is a field path from an input through singular message
  // fields (the last field may be of any kind).
  bool FactPathOf(const Expr& e, int& input,
                  std::vector<const FieldDescriptor*>& fields) {
    if (e.kind != ExprKind::kSelect) return false;
    const Expr& op = *e.operand;
    const Type* t = TypeOf(op);
    if (t == nullptr || t->kind() != Type::Kind::kMessage) return false;
    const FieldDescriptor* f = FindFieldOrExtension(t->descriptor(), e.name);
    if (f == nullptr) return false;
    auto ref = check_.references.find(op.id);
    if (ref != check_.references.end()) {
      if (ref->second.kind != Reference::Kind::kVariable) return false;
      auto b = st_.bindings.find(ref->second.name);
      if (b == st_.bindings.end() ||
          b->second.kind !=
              ExpressionSetBuilder::State::Binding::Kind::kInput) {
        return false;
      }
      input = b->second.index;
      fields = {f};
      return true;
    }
    if (op.test_only || !FactPathOf(op, input, fields)) return false;
    fields.push_back(f);
    return true;
  }

  NodePtr PlanReference(const Expr& e, const Reference& r) {
    using Binding = ExpressionSetBuilder::State::Binding;
    switch (r.kind) {
      case Reference::Kind::kLocal:
        return runtime_internal::MakeLocal(LocalSlot(r.name));
      case Reference::Kind::kEnumValue:
        if (st_.set->strong_enums_) {
          const auto* type = st_.env.pool()->FindEnumTypeByName(
              r.name.substr(0, r.name.rfind('.')));
          return runtime_internal::MakeConstant(
              Value::Enum(type, static_cast<int32_t>(r.enum_value)));
        }
        return runtime_internal::MakeConstant(Value::Int(r.enum_value));
      case Reference::Kind::kTypeName: {
        auto name = std::make_shared<const std::string>(r.name);
        st_.set->keep_alive_.push_back(name);
        return runtime_internal::MakeConstant(Value::Type(*name));
      }
      case Reference::Kind::kVariable:
        break;
    }
    const Binding& b = st_.bindings.at(r.name);
    switch (b.kind) {
      case Binding::Kind::kInput:
        return runtime_internal::MakeInput(b.index);
      case Binding::Kind::kVariable:
        return runtime_internal::MakeVariable(b.index);
      case Binding::Kind::kConstant:
        return runtime_internal::MakeConstant(b.constant);
      case Binding::Kind::kDefinition:
        for (int f : b.facts) NoteFact(f);
        return runtime_internal::MakeDefinition(b.index);
    }
    return nullptr;
  }

  NodePtr PlanCall(const Expr& e) {
    using runtime_internal::Function;
    // A call the checker resolved to an enum type is a conversion to it.
    if (auto ref = check_.references.find(e.id);
        ref != check_.references.end() &&
        ref->second.kind == Reference::Kind::kTypeName && e.args.size() == 1) {
      if (const auto* type =
              st_.env.pool()->FindEnumTypeByName(ref->second.name)) {
        NodePtr arg = Plan(*e.args[0]);
        const bool constant = arg->constant() != nullptr;
        return Fold(runtime_internal::MakeEnumConversion(type, std::move(arg)),
                    constant);
      }
    }
    std::vector<NodePtr> args;
    if (e.operand) args.push_back(Plan(*e.operand));
    for (const auto& a : e.args) args.push_back(Plan(*a));
    if (e.name == "_&&_")
      return runtime_internal::MakeAnd(std::move(args[0]), std::move(args[1]));
    if (e.name == "_||_")
      return runtime_internal::MakeOr(std::move(args[0]), std::move(args[1]));
    if (e.name == "_?_:_") {
      return runtime_internal::MakeConditional(
          std::move(args[0]), std::move(args[1]), std::move(args[2]));
    }
    std::optional<Function> fn = runtime_internal::LookupFunction(e.name);
    if (!fn || !runtime_internal::TakesArguments(*fn, args.size())) {
      return Unresolved(
          e, fn ? absl::StrCat("no matching overload for '", e.name, "' with ",
                               args.size(), " argument(s)")
                : absl::StrCat("undeclared reference to '", e.name, "'"));
    }
    // A constant pattern is compiled once, at load.
    const Expr* pattern = e.args.empty() ? nullptr : e.args.back().get();
    if (*fn == Function::kMatches && args.size() == 2 && pattern != nullptr &&
        pattern->kind == ExprKind::kConstant &&
        std::holds_alternative<std::string>(pattern->constant)) {
      std::string error;
      auto re = runtime_internal::CompileRegex(
          std::get<std::string>(pattern->constant), st_.set->limits_, error);
      if (!re) {
        issues_.push_back({source_.PositionOf(pattern->offset), error});
        return runtime_internal::MakeConstant(Value::Null());
      }
      return runtime_internal::MakeMatchesConstant(std::move(args[0]),
                                                   std::move(re));
    }
    const bool constant = AllConstant(args);
    return Fold(runtime_internal::MakeCall(*fn, std::move(args)), constant);
  }

  ExpressionSetBuilder::State& st_;
  const CheckResult& check_;
  const Source& source_;
  std::vector<Issue>& issues_;
  std::vector<int>& facts_;
  std::vector<std::pair<std::string, int>> locals_;
  const bool lenient_;
};

}  // namespace runtime_internal

ExpressionSetBuilder::ExpressionSetBuilder(
    const google::protobuf::DescriptorPool* pool, std::string container,
    Limits limits)
    : state_(std::make_unique<State>(pool, std::move(container), limits)) {}

ExpressionSetBuilder::~ExpressionSetBuilder() = default;

int ExpressionSetBuilder::DeclareInput(std::string name,
                                       const Descriptor* type) {
  const int index = static_cast<int>(state_->set->inputs_++);
  state_->set->input_reflections_.push_back(GeneratedReflection(type));
  state_->env.AddVariable(name, Type::Message(type));
  state_->bindings[std::move(name)] = {
      State::Binding::Kind::kInput, index, {}, {}};
  return index;
}

int ExpressionSetBuilder::DeclareVariable(std::string name, Type type) {
  const int index = static_cast<int>(state_->set->variables_++);
  state_->env.AddVariable(name, std::move(type));
  state_->bindings[std::move(name)] = {
      State::Binding::Kind::kVariable, index, {}, {}};
  return index;
}

void ExpressionSetBuilder::UseStrongEnums() {
  state_->set->strong_enums_ = true;
  state_->env.set_strong_enums(true);
}

void ExpressionSetBuilder::DeclareConstant(std::string name, Value value,
                                           Type type) {
  state_->env.AddVariable(name, std::move(type));
  state_->bindings[std::move(name)] = {
      State::Binding::Kind::kConstant, 0, std::move(value), {}};
}

void ExpressionSetBuilder::DeclareDefinition(std::string name,
                                             const Compiled& c) {
  const int index = static_cast<int>(state_->set->def_roots_.size());
  state_->set->def_roots_.push_back(c.id);
  state_->set->def_names_.push_back(name);
  state_->env.AddVariable(name, c.type);
  state_->bindings[std::move(name)] = {
      State::Binding::Kind::kDefinition, index, {}, c.facts};
}

ExpressionSetBuilder::Compiled ExpressionSetBuilder::Compile(
    std::string_view text) {
  return CompileImpl(text, /*checked=*/true);
}

ExpressionSetBuilder::Compiled ExpressionSetBuilder::CompileUnchecked(
    std::string_view text) {
  return CompileImpl(text, /*checked=*/false);
}

ExpressionSetBuilder::Compiled ExpressionSetBuilder::CompileImpl(
    std::string_view text, bool checked_mode) {
  Compiled out;
  Source source{std::string(text)};
  ParseResult parsed = Parse(source, state_->set->limits_.parser);
  if (!parsed.issues.empty()) {
    out.issues = std::move(parsed.issues);
    return out;
  }
  CheckResult checked = Check(*parsed.expr, source, state_->env);
  if (checked_mode && !checked.issues.empty()) {
    out.issues = std::move(checked.issues);
    return out;
  }
  const size_t sites_before = state_->set->sites_.size();
  runtime_internal::Planner planner(*state_, checked, source, out.issues,
                                    out.facts, /*lenient=*/!checked_mode);
  NodePtr root = planner.Plan(*parsed.expr);
  if (!out.issues.empty()) {
    state_->set->sites_.resize(sites_before);
    return out;
  }
  out.type = checked.type;
  out.id = static_cast<int>(state_->set->roots_.size());
  for (size_t i = sites_before; i < state_->set->sites_.size(); ++i) {
    out.sites.emplace_back(static_cast<uint32_t>(i),
                           state_->set->sites_[i].position);
  }
  state_->set->roots_.push_back(std::move(root));
  return out;
}

std::shared_ptr<const ExpressionSet> ExpressionSetBuilder::Build() {
  return std::shared_ptr<const ExpressionSet>(state_->set.release());
}

Evaluation::Evaluation(const ExpressionSet& set)
    : frame_(runtime_internal::Frame::Take(set)) {}

Evaluation::~Evaluation() {
  runtime_internal::Frame::GiveBack(std::move(frame_));
}

void Evaluation::SetInput(int index, const google::protobuf::Message& message) {
  frame_->inputs[index] = &message;
  const google::protobuf::Reflection* planned =
      frame_->set.input_reflections_[index];
  frame_->own_class[index] =
      planned != nullptr && message.GetReflection() == planned;
}
void Evaluation::SetVariable(int index, Value value) {
  frame_->variables[index] = std::move(value);
}
Value Evaluation::Evaluate(int id) {
  return frame_->set.roots_[id]->Eval(*frame_);
}
const Value& Evaluation::Fact(int slot) { return frame_->Fact(slot); }

}  // namespace reconnect::cel
