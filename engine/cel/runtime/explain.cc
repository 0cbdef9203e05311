// Explanations: what decided an expression's value, found by evaluating
// the nodes on the way one by one (Evaluation::Explain).

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/cel/runtime/internal/nodes.h"
#include "engine/cel/runtime/program.h"
#include "google/protobuf/descriptor.h"

namespace reconnect::cel {

namespace {

using runtime_internal::Frame;
using runtime_internal::Node;
using Shape = Node::Shape;

bool IsBool(const Value& v, bool b) {
  return v.kind() == Value::Kind::kBool && v.bool_value() == b;
}

// How deep a false || (or true &&) has each operand explained.
constexpr int kMaxAlternativeDepth = 4;

// `v` for people; an int (or a list of them) by its name in `names`, when
// given and it has one.
std::string Text(const Value& v,
                 const google::protobuf::EnumDescriptor* names) {
  if (v.is_error()) return absl::StrCat("error: ", v.error_message());
  if (names != nullptr && v.kind() == Value::Kind::kInt) {
    const auto* value =
        names->FindValueByNumber(static_cast<int>(v.int_value()));
    if (value != nullptr) return value->name();
  }
  if (names != nullptr && v.kind() == Value::Kind::kList) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < v.list().size(); ++i) {
      parts.push_back(Text(v.list().at(i), names));
    }
    return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
  }
  return v.DebugString();
}

// The operand of `node` (whose value is `v`) that decided it, or null when
// the node is the clause: a false && by a false operand, a true || by a
// true one, and an error from either by an operand that is an error. The
// first such operand in order, though CEL's && and || are commutative: the
// second is named when only it decides.
const Node* Deciding(const Node& node, const Value& v, Frame& f) {
  if (node.shape() != Shape::kAnd && node.shape() != Shape::kOr) {
    return nullptr;
  }
  const bool decisive = node.shape() == Shape::kOr;
  if (!v.is_error() && !IsBool(v, decisive)) return nullptr;
  for (size_t i = 0; i < node.operand_count(); ++i) {
    const Node* op = node.operand(i);
    const Value ov = op->Eval(f);
    if (v.is_error() ? ov.is_error() : IsBool(ov, decisive)) return op;
  }
  return nullptr;
}

// The enum whose names the values that `node` compares read as: the type of
// an enum field among its operands, if any.
const google::protobuf::EnumDescriptor* EnumNamesOf(const Node& node,
                                                    const ExpressionSet& set) {
  const google::protobuf::EnumDescriptor* names = nullptr;
  for (size_t i = 0; i < node.operand_count(); ++i) {
    const Node* op = node.operand(i);
    if (op->fact() < 0) continue;
    const FactPath& path = set.facts()[op->fact()];
    if (!path.presence && path.fields.back()->enum_type() != nullptr) {
      names = path.fields.back()->enum_type();
    }
  }
  return names;
}

// The comparison `op` negated, for one that is false.
std::string_view Negated(std::string_view op) {
  if (op == "==") return "!=";
  if (op == "!=") return "==";
  if (op == "<") return ">=";
  if (op == "<=") return ">";
  if (op == ">") return "<=";
  if (op == ">=") return "<";
  if (op == "in") return "not in";
  return op;
}

}  // namespace

const Explanation& Evaluation::Explain(int id) {
  Frame& f = *frame_;
  // An explanation has a budget of its own, as large as an evaluation's;
  // the evaluation's is left as it was.
  const int64_t cost = f.cost;
  f.cost = 0;
  if (last_ == nullptr) last_ = std::make_unique<Explanation>();
  *last_ = Explanation();
  const Explanation& out = ExplainNode(f.set.roots_[id].get(), 0, *last_);
  f.cost = cost;
  return out;
}

const Explanation& Evaluation::ExplainDefinition(int index, int depth) {
  const ExpressionSet& set = frame_->set;
  if (explained_ == nullptr) {
    explained_ = std::make_unique<std::vector<std::unique_ptr<Explanation>>>(
        set.def_roots_.size());
  }
  std::unique_ptr<Explanation>& memo = (*explained_)[index];
  if (memo == nullptr) {
    Explanation scratch;
    const Explanation& inner =
        ExplainNode(set.roots_[set.def_roots_[index]].get(), depth, scratch);
    // A definition whose clause is inside another: that one's, copied once.
    memo = std::make_unique<Explanation>(&inner == &scratch ? std::move(scratch)
                                                            : inner);
    memo->definitions.insert(memo->definitions.begin(), set.def_names_[index]);
  }
  return *memo;
}

const Explanation& Evaluation::ExplainNode(const Node* node, int depth,
                                           Explanation& out) {
  Frame& f = *frame_;
  const ExpressionSet& set = f.set;
  // Ends: each step goes down one node, or into a definition (which cannot
  // refer to itself, so there are finitely many).
  while (true) {
    const Value v = node->Eval(f);
    if (node->shape() == Shape::kDefinition) {
      return ExplainDefinition(node->definition(), depth);
    }
    if (const Node* next = Deciding(*node, v, f)) {
      node = next;
      continue;
    }
    out.clause =
        node->site() == 0 ? v.DebugString() : set.site_text_[node->site()];
    out.value = Text(v, nullptr);
    out.site = node->site();
    if (node->site() != 0) {
      out.expression = set.sites_[node->site()].expression;
      out.position = set.sites_[node->site()].position;
    }
    const bool logical =
        node->shape() == Shape::kAnd || node->shape() == Shape::kOr;
    if (logical) {
      // Every operand mattered: each is explained, to a bounded depth.
      if (depth < kMaxAlternativeDepth) {
        out.alternatives.reserve(node->operand_count());
        for (size_t i = 0; i < node->operand_count(); ++i) {
          Explanation scratch;
          const Explanation& e =
              ExplainNode(node->operand(i), depth + 1, scratch);
          out.alternatives.push_back(&e == &scratch ? std::move(scratch) : e);
        }
      }
      return out;
    }
    // Enum values are named by the enum of a field the node compares.
    const google::protobuf::EnumDescriptor* names = EnumNamesOf(*node, set);
    const size_t n = node->operand_count();
    std::vector<std::string> values;
    values.reserve(n);
    out.operands.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const Node* op = node->operand(i);
      const Value ov = op->Eval(f);
      values.push_back(Text(ov, names));
      if (op->site() != 0) {  // a literal says what it is
        out.operands.emplace_back(set.site_text_[op->site()], values.back());
      }
    }
    if (node->shape() == Shape::kCompare && values.size() == 2 &&
        v.kind() == Value::Kind::kBool) {
      out.comparison =
          absl::StrCat(values[0], " ",
                       std::string(v.bool_value() ? node->detail()
                                                  : Negated(node->detail())),
                       " ", values[1]);
    }
    return out;
  }
}

// Residuals: what is left of an unknown expression once its known parts are
// folded in (Evaluation::Residual).

struct Evaluation::ResidualText {
  std::string text;
  // A has() of an absent fact.
  bool presence = false;
  // The operator joining its top-level parts: '&', '|' or none.
  char joined = 0;
};

void Evaluation::SetPartial(bool partial) { frame_->partial = partial; }

bool Evaluation::Absent(int slot) {
  const FactPath& path = frame_->set.facts()[slot];
  const google::protobuf::Message* input = frame_->inputs[path.input];
  return input != nullptr &&
         runtime_internal::FieldAbsent(
             runtime_internal::FactHolder(*input, path), path.fields.back());
}

int64_t Evaluation::cost() const { return frame_->cost; }

std::string Evaluation::Residual(int id,
                                 const std::vector<std::string>& fact_names) {
  const runtime_internal::Node* root = frame_->set.roots_[id].get();
  const Value v = root->Eval(*frame_);
  if (!v.is_unknown()) return "";
  return ResidualOf(root, v, 0, fact_names).text;
}

// Each node is evaluated once here, by its parent, which passes the value
// down (definitions and facts are cached by the evaluation).
Evaluation::ResidualText Evaluation::ResidualOf(
    const Node* node, const Value& v, int depth,
    const std::vector<std::string>& names) {
  Frame& f = *frame_;
  const ExpressionSet& set = f.set;
  // Definitions cannot refer to themselves, so this ends; the bound keeps
  // the text readable.
  constexpr int kMaxDepth = 32;
  ResidualText out;
  if (!v.is_unknown()) {
    out.text = Text(v, nullptr);
    return out;
  }
  auto site = [&]() -> std::string {
    return node->site() == 0 ? Text(v, nullptr) : set.site_text_[node->site()];
  };
  if (depth >= kMaxDepth) {
    out.text = site();
    return out;
  }
  switch (node->shape()) {
    case Shape::kDefinition:
      // A definition's value is its expression's.
      return ResidualOf(set.roots_[set.def_roots_[node->definition()]].get(), v,
                        depth + 1, names);
    case Shape::kAnd:
    case Shape::kOr: {
      // The operands that are known are true in an unknown && (false in an
      // ||) or errors, which the unknown outranks: only unknowns are left.
      const char joined = node->shape() == Shape::kAnd ? '&' : '|';
      std::vector<ResidualText> parts;
      bool measured = false;
      for (size_t i = 0; i < node->operand_count(); ++i) {
        const Node* op = node->operand(i);
        const Value ov = op->Eval(f);
        if (!ov.is_unknown()) continue;
        parts.push_back(ResidualOf(op, ov, depth + 1, names));
        measured = measured || !parts.back().presence;
      }
      // has() is dropped beside a condition on the value: the residual
      // supposes the fact measured.
      std::vector<ResidualText> kept;
      for (ResidualText& p : parts) {
        if (joined == '&' && measured && p.presence) continue;
        kept.push_back(std::move(p));
      }
      if (kept.size() == 1) return std::move(kept[0]);
      std::vector<std::string> texts;
      for (const ResidualText& p : kept) {
        const bool wrap = p.joined != 0 && p.joined != joined;
        texts.push_back(wrap ? absl::StrCat("(", p.text, ")") : p.text);
      }
      out.text = absl::StrJoin(texts, joined == '&' ? " && " : " || ");
      out.joined = joined;
      return out;
    }
    case Shape::kNot: {
      const Value ov = node->operand(0)->Eval(f);
      ResidualText inner = ResidualOf(node->operand(0), ov, depth + 1, names);
      out.text = inner.joined != 0 ? absl::StrCat("!(", inner.text, ")")
                                   : absl::StrCat("!", inner.text);
      return out;
    }
    case Shape::kCompare: {
      if (node->operand_count() != 2) break;
      const google::protobuf::EnumDescriptor* enum_names =
          EnumNamesOf(*node, set);
      std::string sides[2];
      for (size_t i = 0; i < 2; ++i) {
        const Node* op = node->operand(i);
        const Value ov = op->Eval(f);
        if (ov.is_unknown()) {
          ResidualText r = ResidualOf(op, ov, depth + 1, names);
          sides[i] = r.joined != 0 ? absl::StrCat("(", r.text, ")") : r.text;
        } else {
          sides[i] = Text(ov, enum_names);
        }
      }
      out.text = absl::StrCat(sides[0], " ", std::string(node->detail()), " ",
                              sides[1]);
      return out;
    }
    default:
      break;
  }
  if (const int slot = node->fact(); slot >= 0) {
    const FactPath& path = set.facts()[slot];
    out.presence = path.presence;
    if (!path.presence && static_cast<size_t>(slot) < names.size() &&
        !names[slot].empty()) {
      out.text = names[slot];
      return out;
    }
  }
  out.text = site();
  return out;
}

}  // namespace reconnect::cel
