#include "engine/cel/checker/checker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/cel/checker/overloads.h"

namespace reconnect::cel {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

CheckerEnv::CheckerEnv(const google::protobuf::DescriptorPool* pool,
                       std::string container)
    : pool_(pool), container_(std::move(container)) {}

void CheckerEnv::AddVariable(std::string name, Type type) {
  variables_[std::move(name)] = std::move(type);
}

std::vector<std::string> CheckerEnv::Candidates(std::string_view name) const {
  if (!name.empty() && name[0] == '.') return {std::string(name.substr(1))};
  std::vector<std::string> out;
  std::string prefix = container_;
  while (!prefix.empty()) {
    out.push_back(absl::StrCat(prefix, ".", std::string(name)));
    const size_t dot = prefix.rfind('.');
    prefix = dot == std::string::npos ? "" : prefix.substr(0, dot);
  }
  out.emplace_back(name);
  return out;
}

const Type* CheckerEnv::FindVariable(const std::string& full_name) const {
  auto it = variables_.find(full_name);
  return it == variables_.end() ? nullptr : &it->second;
}

void CheckerEnv::AddFunction(std::string name, Overload overload) {
  functions_[std::move(name)].push_back(std::move(overload));
}

const std::vector<Overload>* CheckerEnv::FindFunction(
    const std::string& full_name) const {
  auto it = functions_.find(full_name);
  return it == functions_.end() ? nullptr : &it->second;
}

namespace {

std::optional<Type> BuiltinTypeName(std::string_view n) {
  if (n == "int") return Type::Int();
  if (n == "uint") return Type::Uint();
  if (n == "double") return Type::Double();
  if (n == "bool") return Type::Bool();
  if (n == "string") return Type::String();
  if (n == "bytes") return Type::Bytes();
  if (n == "list") return Type::List(Type::Dyn());
  if (n == "map") return Type::Map(Type::Dyn(), Type::Dyn());
  if (n == "null_type") return Type::Null();
  if (n == "type") return Type::TypeType();
  return std::nullopt;
}

class Checker {
 public:
  Checker(const Source& source, const CheckerEnv& env, CheckResult& out)
      : source_(source), env_(env), out_(out) {}

  // The expression's type as known so far (bound variables resolved).
  Type Visit(const Expr& e) {
    Type t = vars_.Resolve(VisitInner(e));
    out_.types[e.id] = t;
    return t;
  }

  // Every recorded type with what the whole expression bound, and unbound
  // variables as dyn.
  Type Finish(const Type& top) {
    for (auto& [id, t] : out_.types) t = vars_.Finalize(t);
    return vars_.Finalize(top);
  }

 private:
  void Error(int32_t offset, std::string message) {
    out_.issues.push_back({source_.PositionOf(offset), std::move(message)});
  }

  Type VisitInner(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kConstant:
        return ConstantType(e.constant);
      case ExprKind::kIdent:
      case ExprKind::kSelect:
        if (IsQualifiedChain(e)) return ResolveChain(e);
        return VisitSelect(e, Visit(*e.operand));
      case ExprKind::kCall:
        return VisitCall(e);
      case ExprKind::kList: {
        // `[]`'s element type is unknown until the expression says more.
        Type elem = vars_.Fresh();
        for (const auto& a : e.args) elem = vars_.Join(elem, Visit(*a));
        return Type::List(elem);
      }
      case ExprKind::kMap: {
        Type k = vars_.Fresh(), v = vars_.Fresh();
        for (const auto& entry : e.entries) {
          Type kt = Visit(*entry.key);
          Type vt = Visit(*entry.value);
          if (!(kt.is_dyn() || kt.kind() == Type::Kind::kInt ||
                kt.kind() == Type::Kind::kUint ||
                kt.kind() == Type::Kind::kBool ||
                kt.kind() == Type::Kind::kString)) {
            Error(entry.offset, absl::StrCat("unsupported map key type '",
                                             kt.ToString(), "'"));
          }
          k = vars_.Join(k, kt);
          v = vars_.Join(v, vt);
        }
        return Type::Map(k, v);
      }
      case ExprKind::kStruct:
        return VisitStruct(e);
      case ExprKind::kComprehension:
        return VisitComprehension(e);
    }
    return Type::Dyn();
  }

  static Type ConstantType(const Constant& c) {
    switch (c.index()) {
      case 0:
        return Type::Null();
      case 1:
        return Type::Bool();
      case 2:
        return Type::Int();
      case 3:
        return Type::Uint();
      case 4:
        return Type::Double();
      case 5:
        return Type::String();
      default:
        return Type::Bytes();
    }
  }

  static bool IsQualifiedChain(const Expr& e) {
    if (e.kind == ExprKind::kIdent) return true;
    return e.kind == ExprKind::kSelect && !e.test_only &&
           IsQualifiedChain(*e.operand);
  }

  bool IsLocal(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (it->first == name) return true;
    }
    return false;
  }
  Type LocalType(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return Type::Dyn();
  }

  // Resolves an identifier or a chain of selections on one, trying the
  // longest qualified name first, as CEL's name resolution does.
  Type ResolveChain(const Expr& top) {
    std::vector<const Expr*> chain;  // chain[0] is the identifier
    for (const Expr* n = &top;; n = n->operand.get()) {
      chain.insert(chain.begin(), n);
      if (n->kind == ExprKind::kIdent) break;
    }
    const std::string& root = chain[0]->name;
    size_t resolved = 0;  // number of segments resolved as one name
    Type type;
    if (IsLocal(root)) {
      resolved = 1;
      type = LocalType(root);
      out_.references[chain[0]->id] = {Reference::Kind::kLocal, root, 0};
    } else {
      for (size_t k = chain.size(); k >= 1 && resolved == 0; --k) {
        std::string name = root;
        for (size_t i = 1; i < k; ++i)
          absl::StrAppend(&name, ".", chain[i]->name);
        if (auto r = ResolveName(name, type)) {
          out_.references[chain[k - 1]->id] = *r;
          resolved = k;
        }
      }
    }
    if (resolved == 0) {
      Error(chain[0]->offset,
            absl::StrCat("undeclared reference to '", root, "'",
                         env_.container().empty()
                             ? ""
                             : absl::StrCat(" (in container '",
                                            env_.container(), "')")));
      type = Type::Dyn();
      for (const Expr* n : chain) out_.types[n->id] = Type::Dyn();
      return Type::Dyn();
    }
    out_.types[chain[resolved - 1]->id] = type;
    for (size_t i = resolved; i < chain.size(); ++i) {
      type = VisitSelect(*chain[i], type);
      out_.types[chain[i]->id] = type;
    }
    return type;
  }

  std::optional<Reference> ResolveName(const std::string& name, Type& type) {
    for (const std::string& full : env_.Candidates(name)) {
      if (const Type* t = env_.FindVariable(full)) {
        type = *t;
        return Reference{Reference::Kind::kVariable, full, 0};
      }
      const size_t dot = full.rfind('.');
      if (dot != std::string::npos) {
        if (const EnumDescriptor* en =
                env_.pool()->FindEnumTypeByName(full.substr(0, dot))) {
          if (const auto* v = en->FindValueByName(full.substr(dot + 1))) {
            type = env_.strong_enums() ? Type::Enum(en) : Type::Int();
            return Reference{Reference::Kind::kEnumValue, full, v->number()};
          }
        }
      }
      if (const Descriptor* d = env_.pool()->FindMessageTypeByName(full)) {
        type = Type::TypeType();
        return Reference{Reference::Kind::kTypeName, d->full_name(), 0};
      }
      if (env_.strong_enums()) {
        if (const EnumDescriptor* en = env_.pool()->FindEnumTypeByName(full)) {
          type = Type::TypeType();
          return Reference{Reference::Kind::kTypeName, en->full_name(), 0};
        }
      }
    }
    if (BuiltinTypeName(name)) {
      type = Type::TypeType();
      return Reference{Reference::Kind::kTypeName, name, 0};
    }
    return std::nullopt;
  }

  Type VisitSelect(const Expr& e, const Type& operand) {
    Type result = Type::Dyn();
    switch (operand.kind()) {
      case Type::Kind::kDyn:
      case Type::Kind::kFree:
      case Type::Kind::kTypeParam:
      case Type::Kind::kVar:
        break;
      case Type::Kind::kMessage: {
        const FieldDescriptor* f =
            FindFieldOrExtension(operand.descriptor(), e.name);
        if (f == nullptr) {
          Error(e.offset, absl::StrCat("undefined field '", e.name,
                                       "' on type '", operand.ToString(), "'"));
        } else {
          result = FieldType(f, env_.strong_enums());
        }
        break;
      }
      case Type::Kind::kMap:
        if (!operand.elem().is_dyn() &&
            operand.elem().kind() != Type::Kind::kString) {
          Error(e.offset, absl::StrCat("type '", operand.ToString(),
                                       "' does not support field selection"));
        }
        result = ElementRead(operand.map_value());
        break;
      default:
        Error(e.offset, absl::StrCat("type '", operand.ToString(),
                                     "' does not support field selection"));
    }
    return e.test_only ? Type::Bool() : result;
  }

  Type VisitStruct(const Expr& e) {
    const Descriptor* d = nullptr;
    for (const std::string& full : env_.Candidates(e.name)) {
      d = env_.pool()->FindMessageTypeByName(full);
      if (d != nullptr) break;
    }
    for (const auto& entry : e.entries) Visit(*entry.value);
    if (d == nullptr) {
      Error(e.offset, absl::StrCat("undeclared reference to message type '",
                                   e.name, "'"));
      return Type::Dyn();
    }
    out_.references[e.id] = {Reference::Kind::kTypeName, d->full_name(), 0};
    for (const auto& entry : e.entries) {
      const FieldDescriptor* f = d->FindFieldByName(entry.field);
      if (f == nullptr) {
        Error(entry.offset, absl::StrCat("undefined field '", entry.field,
                                         "' on type '", d->full_name(), "'"));
        continue;
      }
      const Type vt = vars_.Resolve(out_.types[entry.value->id]);
      const Type ft = FieldType(f, env_.strong_enums());
      if (!ft.IsAssignableFrom(vt) && vt.kind() != Type::Kind::kNull) {
        Error(entry.offset,
              absl::StrCat("expected type of field '", entry.field, "' is '",
                           ft.ToString(), "' but provided type is '",
                           vt.ToString(), "'"));
      }
    }
    return MessageCelType(d);
  }

  Type VisitComprehension(const Expr& e) {
    const Type range = Visit(*e.range);
    Type iter = Type::Dyn();
    if (range.kind() == Type::Kind::kList) {
      iter = ElementRead(range.elem());
    } else if (range.kind() == Type::Kind::kMap) {
      iter = ElementRead(range.elem());
    } else if (!range.is_dyn()) {
      Error(e.range->offset,
            absl::StrCat("expression of type '", range.ToString(),
                         "' cannot be the range of a comprehension (must be "
                         "list, map, or dynamic)"));
    }
    // Two-variable forms bind (index, element) over a list and (key, value)
    // over a map.
    const bool two = IsTwoVariableMacro(e.macro);
    Type second = Type::Dyn();
    if (two) {
      if (range.kind() == Type::Kind::kList) {
        second = iter;
        iter = Type::Int();
      } else if (range.kind() == Type::Kind::kMap) {
        second = ElementRead(range.map_value());
      }
    }
    scopes_.emplace_back(e.iter_var, iter);
    if (two) scopes_.emplace_back(e.iter_var2, second);
    std::vector<Type> arg_types;
    for (const auto& a : e.args) arg_types.push_back(Visit(*a));
    scopes_.pop_back();
    if (two) scopes_.pop_back();
    auto require_bool = [&](size_t i) {
      // An unknown type used as a predicate is bool.
      const Type t = vars_.Resolve(arg_types[i]);
      if (t.kind() == Type::Kind::kVar) vars_.Unify(t, Type::Bool());
      if (!Type::Bool().IsAssignableFrom(t)) {
        Error(e.args[i]->offset, absl::StrCat("predicate must be bool, found '",
                                              arg_types[i].ToString(), "'"));
      }
    };
    switch (e.macro) {
      case MacroKind::kAll:
      case MacroKind::kExists:
      case MacroKind::kExistsOne:
        require_bool(0);
        return Type::Bool();
      case MacroKind::kMap:
        return Type::List(arg_types[0]);
      case MacroKind::kMapFilter:
        require_bool(0);
        return Type::List(arg_types[1]);
      case MacroKind::kFilter:
        require_bool(0);
        return Type::List(iter);
      case MacroKind::kAll2:
      case MacroKind::kExists2:
      case MacroKind::kExistsOne2:
        require_bool(0);
        return Type::Bool();
      case MacroKind::kTransformList:
        return Type::List(arg_types[0]);
      case MacroKind::kTransformListFilter:
        require_bool(0);
        return Type::List(arg_types[1]);
      case MacroKind::kTransformMap:
        return Type::Map(iter, arg_types[0]);
      case MacroKind::kTransformMapFilter:
        require_bool(0);
        return Type::Map(iter, arg_types[1]);
    }
    return Type::Dyn();
  }

  // The name a call spells when its target is a qualified name rather than
  // a value (`a.b.f(x)`: "a.b.f"; `f(x)`: "f"); nullopt when the target is
  // an expression or starts with a comprehension variable.
  std::optional<std::string> QualifiedCallName(const Expr& e) const {
    std::string name = e.name;
    if (!e.operand) return name;
    if (!IsQualifiedChain(*e.operand)) return std::nullopt;
    const Expr* n = e.operand.get();
    for (; n->kind == ExprKind::kSelect; n = n->operand.get()) {
      name = absl::StrCat(n->name, ".", name);
    }
    if (IsLocal(n->name)) return std::nullopt;
    return absl::StrCat(n->name, ".", name);
  }

  // For `a.b.f(x)`: the declared function `a.b.f`, when `a.b` is a name
  // rather than a value, resolved in the container.
  const std::vector<Overload>* QualifiedFunction(const Expr& e) {
    if (!e.operand) return nullptr;
    const auto name = QualifiedCallName(e);
    if (!name) return nullptr;
    for (const std::string& full : env_.Candidates(*name)) {
      if (env_.FindVariable(full.substr(0, full.rfind('.')))) return nullptr;
      if (const auto* f = env_.FindFunction(full)) return f;
    }
    return nullptr;
  }

  const std::vector<Overload>* DeclaredFunction(const std::string& name) {
    for (const std::string& full : env_.Candidates(name)) {
      if (const auto* f = env_.FindFunction(full)) return f;
    }
    return nullptr;
  }

  // Under strong enum typing, `E(x)` or `pkg.E(x)` for an enum type E.
  const EnumDescriptor* EnumConversion(const Expr& e) {
    if (!env_.strong_enums() || e.args.size() != 1) return nullptr;
    const auto name = QualifiedCallName(e);
    if (!name) return nullptr;
    for (const std::string& full : env_.Candidates(*name)) {
      if (const EnumDescriptor* en = env_.pool()->FindEnumTypeByName(full)) {
        return en;
      }
    }
    return nullptr;
  }

  Type VisitCall(const Expr& e) {
    if (const EnumDescriptor* en = EnumConversion(e)) {
      const Type arg = Visit(*e.args[0]);
      if (!arg.is_dyn() && arg.kind() != Type::Kind::kInt &&
          arg.kind() != Type::Kind::kString) {
        Error(e.offset,
              absl::StrCat("found no matching overload for '", en->full_name(),
                           "' applied to '(", arg.ToString(), ")'"));
        return Type::Dyn();
      }
      out_.references[e.id] = {Reference::Kind::kTypeName, en->full_name(), 0};
      return Type::Enum(en);
    }
    std::vector<Type> args;
    std::optional<Type> target;
    const std::vector<Overload>* declared = QualifiedFunction(e);
    if (declared == nullptr) {
      if (e.operand) target = Visit(*e.operand);
      declared = DeclaredFunction(e.name);
    }
    for (const auto& a : e.args) args.push_back(Visit(*a));
    std::string error;
    std::optional<Type> t = ResolveOverload(e.name, target ? &*target : nullptr,
                                            args, declared, vars_, error);
    if (!t) {
      Error(e.offset, error);
      return Type::Dyn();
    }
    return *t;
  }

  const Source& source_;
  const CheckerEnv& env_;
  CheckResult& out_;
  std::vector<std::pair<std::string, Type>> scopes_;
  TypeVars vars_;
};

}  // namespace

CheckResult Check(const Expr& expr, const Source& source,
                  const CheckerEnv& env) {
  CheckResult result;
  Checker checker(source, env, result);
  result.type = checker.Finish(checker.Visit(expr));
  return result;
}

}  // namespace reconnect::cel
