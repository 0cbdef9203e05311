#include "engine/cel/checker/overloads.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reconnect::cel {
namespace {

using K = Type::Kind;

using Signature = Overload;

std::vector<Signature> Sigs(bool receiver, std::vector<std::vector<Type>> ps,
                            Type result) {
  std::vector<Signature> out;
  for (auto& p : ps) out.push_back({receiver, std::move(p), result});
  return out;
}

// The fixed-type overloads of the standard library. Generic ones (lists,
// maps, equality, conditional, indexing) are typed in ResolveOverload.
const absl::flat_hash_map<std::string, std::vector<Signature>>& Table() {
  static const auto* table = [] {
    auto* t = new absl::flat_hash_map<std::string, std::vector<Signature>>();
    const Type i = Type::Int(), u = Type::Uint(), d = Type::Double(),
               s = Type::String(), b = Type::Bytes(), bo = Type::Bool(),
               ts = Type::Timestamp(), du = Type::Duration(), dyn = Type::Dyn();
    auto add = [&](const std::string& n, std::vector<Signature> v) {
      auto& slot = (*t)[n];
      slot.insert(slot.end(), v.begin(), v.end());
    };
    add("_+_", Sigs(false, {{i, i}}, i));
    add("_+_", Sigs(false, {{u, u}}, u));
    add("_+_", Sigs(false, {{d, d}}, d));
    add("_+_", Sigs(false, {{s, s}}, s));
    add("_+_", Sigs(false, {{b, b}}, b));
    add("_+_", Sigs(false, {{ts, du}, {du, ts}}, ts));
    add("_+_", Sigs(false, {{du, du}}, du));
    add("_-_", Sigs(false, {{i, i}}, i));
    add("_-_", Sigs(false, {{u, u}}, u));
    add("_-_", Sigs(false, {{d, d}}, d));
    add("_-_", Sigs(false, {{ts, ts}}, du));
    add("_-_", Sigs(false, {{ts, du}}, ts));
    add("_-_", Sigs(false, {{du, du}}, du));
    for (const char* op : {"_*_", "_/_"}) {
      add(op, Sigs(false, {{i, i}}, i));
      add(op, Sigs(false, {{u, u}}, u));
      add(op, Sigs(false, {{d, d}}, d));
    }
    add("_%_", Sigs(false, {{i, i}}, i));
    add("_%_", Sigs(false, {{u, u}}, u));
    add("-_", Sigs(false, {{i}}, i));
    add("-_", Sigs(false, {{d}}, d));
    add("!_", Sigs(false, {{bo}}, bo));
    add("_&&_", Sigs(false, {{bo, bo}}, bo));
    add("_||_", Sigs(false, {{bo, bo}}, bo));
    for (const char* op : {"_<_", "_<=_", "_>_", "_>=_"}) {
      add(op, Sigs(false,
                   {{i, i},
                    {u, u},
                    {d, d},
                    {i, u},
                    {i, d},
                    {u, i},
                    {u, d},
                    {d, i},
                    {d, u},
                    {s, s},
                    {b, b},
                    {bo, bo},
                    {ts, ts},
                    {du, du}},
                   bo));
    }
    for (const char* fn : {"contains", "startsWith", "endsWith", "matches"}) {
      add(fn, Sigs(true, {{s, s}}, bo));
    }
    add("matches", Sigs(false, {{s, s}}, bo));
    add("size", Sigs(false, {{s}, {b}}, i));
    add("size", Sigs(true, {{s}, {b}}, i));
    add("int", Sigs(false, {{i}, {u}, {d}, {s}, {ts}}, i));
    add("uint", Sigs(false, {{i}, {u}, {d}, {s}}, u));
    add("double", Sigs(false, {{i}, {u}, {d}, {s}}, d));
    add("string", Sigs(false, {{i}, {u}, {d}, {s}, {b}, {bo}, {ts}, {du}}, s));
    add("bytes", Sigs(false, {{s}, {b}}, b));
    add("bool", Sigs(false, {{bo}, {s}}, bo));
    add("duration", Sigs(false, {{s}, {du}}, du));
    add("timestamp", Sigs(false, {{s}, {i}, {ts}}, ts));
    add("type", Sigs(false, {{dyn}}, Type::TypeType()));
    add("dyn", Sigs(false, {{dyn}}, dyn));
    for (const char* fn : {"getFullYear", "getMonth", "getDayOfYear",
                           "getDayOfMonth", "getDate", "getDayOfWeek"}) {
      add(fn, Sigs(true, {{ts}, {ts, s}}, i));
    }
    for (const char* fn :
         {"getHours", "getMinutes", "getSeconds", "getMilliseconds"}) {
      add(fn, Sigs(true, {{ts}, {ts, s}, {du}}, i));
    }
    return t;
  }();
  return *table;
}

std::string ArgList(const Type* target, const std::vector<Type>& args) {
  std::vector<std::string> parts;
  for (const Type& t : args) parts.push_back(t.ToString());
  std::string s = absl::StrCat("(", absl::StrJoin(parts, ", "), ")");
  if (target) return absl::StrCat(target->ToString(), ".", s);
  return s;
}

bool IsComparableForEquality(const Type& a, const Type& b) {
  if (a.kind() == K::kWrapper) return IsComparableForEquality(a.elem(), b);
  if (b.kind() == K::kWrapper) return IsComparableForEquality(a, b.elem());
  if (a.is_dyn() || b.is_dyn()) return true;
  if (a.kind() == K::kNull || b.kind() == K::kNull) return true;
  if (a.is_numeric() && b.is_numeric()) return true;
  if (a.kind() != b.kind()) return false;
  if (a.kind() == K::kList) return IsComparableForEquality(a.elem(), b.elem());
  if (a.kind() == K::kMap) {
    return IsComparableForEquality(a.elem(), b.elem()) &&
           IsComparableForEquality(a.map_value(), b.map_value());
  }
  return a.IsAssignableFrom(b);
}

using Bindings = absl::flat_hash_map<std::string, Type>;

// Whether an argument of type `arg` fits parameter `param`, binding the
// parameter's type parameters in `b`. A type parameter bound twice takes
// the join of its two bindings, so that dyn and a concrete type give dyn,
// as CEL's flexible type-parameter assignment does.
bool Match(const Type& param, const Type& arg, Bindings& b) {
  switch (param.kind()) {
    case K::kTypeParam: {
      auto [it, inserted] = b.try_emplace(param.name(), arg);
      if (inserted) return true;
      auto u = Unify(it->second, arg);
      if (!u) return false;
      it->second = *u;
      return true;
    }
    case K::kList:
      if (arg.kind() == K::kList) return Match(param.elem(), arg.elem(), b);
      break;
    case K::kMap:
      if (arg.kind() == K::kMap) {
        return Match(param.elem(), arg.elem(), b) &&
               Match(param.map_value(), arg.map_value(), b);
      }
      break;
    case K::kAbstract:
      if (arg.kind() == K::kAbstract && arg.name() == param.name() &&
          arg.params().size() == param.params().size()) {
        for (size_t i = 0; i < arg.params().size(); ++i) {
          if (!Match(param.params()[i], arg.params()[i], b)) return false;
        }
        return true;
      }
      break;
    default:
      break;
  }
  return param.IsAssignableFrom(arg);
}

// `t` with its type parameters replaced by their bindings; an unbound one
// is free.
Type Substitute(const Type& t, const Bindings& b) {
  switch (t.kind()) {
    case K::kTypeParam: {
      auto it = b.find(t.name());
      return it == b.end() ? Type::Free() : it->second;
    }
    case K::kList:
      return Type::List(Substitute(t.elem(), b));
    case K::kMap:
      return Type::Map(Substitute(t.elem(), b), Substitute(t.map_value(), b));
    case K::kAbstract: {
      std::vector<Type> params;
      for (const Type& p : t.params()) params.push_back(Substitute(p, b));
      return Type::Abstract(t.name(), std::move(params));
    }
    default:
      return t;
  }
}

}  // namespace

std::optional<Type> ResolveOverload(const std::string& name,
                                    const Type* target_in,
                                    const std::vector<Type>& args_in,
                                    const std::vector<Overload>* declared,
                                    TypeVars& vars, std::string& error) {
  std::vector<Type> args;
  for (const Type& a : args_in) args.push_back(vars.Resolve(a));
  std::optional<Type> resolved_target;
  if (target_in) resolved_target = vars.Resolve(*target_in);
  const Type* target = resolved_target ? &*resolved_target : nullptr;
  auto no_overload = [&]() -> std::optional<Type> {
    error = absl::StrCat("found no matching overload for '", name,
                         "' applied to '", ArgList(target, args), "'");
    return std::nullopt;
  };
  // Generic operators first.
  if (!target) {
    if ((name == "_==_" || name == "_!=_") && args.size() == 2) {
      if (!IsComparableForEquality(args[0], args[1])) return no_overload();
      return Type::Bool();
    }
    if (name == "_?_:_" && args.size() == 3) {
      if (args[0].kind() == K::kVar) vars.Unify(args[0], Type::Bool());
      if (!Type::Bool().IsAssignableFrom(args[0])) return no_overload();
      // A null branch leaves the other's type, nullable or not, so that
      // `c ? x : null` reads as x's type.
      if (args[1].kind() == K::kNull) return args[2];
      if (args[2].kind() == K::kNull) return args[1];
      return vars.Join(args[1], args[2]);
    }
    if (name == "_[_]" && args.size() == 2) {
      const Type& c = args[0];
      if (c.is_dyn()) return Type::Dyn();
      if (c.kind() == K::kList) {
        if (!args[1].is_dyn() && !args[1].is_numeric()) return no_overload();
        return ElementRead(c.elem());
      }
      if (c.kind() == K::kMap) {
        if (!IsComparableForEquality(c.elem(), args[1])) return no_overload();
        return ElementRead(c.map_value());
      }
      return no_overload();
    }
    if (name == "@in" && args.size() == 2) {
      const Type& c = args[1];
      if (c.kind() == K::kVar) {
        // As the first overload that fits: a list of the element's type,
        // else a map keyed by it; neither when the container would have to
        // hold itself.
        if (vars.Unify(c, Type::List(args[0])) ||
            vars.Unify(c, Type::Map(args[0], vars.Fresh()))) {
          return Type::Bool();
        }
        return no_overload();
      }
      if (c.is_dyn()) return Type::Bool();
      if (c.kind() == K::kList || c.kind() == K::kMap) {
        // Binds unknown element or argument types; a mismatch is left to
        // the comparison rules (1 in [1.0] holds).
        vars.Unify(c.elem(), args[0]);
        if (!IsComparableForEquality(vars.Resolve(c.elem()),
                                     vars.Resolve(args[0]))) {
          return no_overload();
        }
        return Type::Bool();
      }
      return no_overload();
    }
    if (name == "_+_" && args.size() == 2 && args[0].kind() == K::kList &&
        args[1].kind() == K::kList) {
      auto elem = vars.Unify(args[0].elem(), args[1].elem());
      if (!elem) return no_overload();
      return Type::List(*elem);
    }
    if (name == "type" && args.size() == 1) return Type::TypeOf(args[0]);
    if (name == "int" && args.size() == 1 && args[0].kind() == K::kEnum) {
      return Type::Int();
    }
    if (name == "size" && args.size() == 1 &&
        (args[0].kind() == K::kList || args[0].kind() == K::kMap)) {
      return Type::Int();
    }
  } else if (name == "size" && args.empty() &&
             (target->kind() == K::kList || target->kind() == K::kMap)) {
    return Type::Int();
  }
  auto it = Table().find(name);
  const std::vector<Signature>* standard =
      it == Table().end() ? nullptr : &it->second;
  if (standard == nullptr && declared == nullptr) {
    error = absl::StrCat("undeclared reference to '", name, "'");
    return std::nullopt;
  }
  std::vector<Type> actual;
  if (target) actual.push_back(*target);
  actual.insert(actual.end(), args.begin(), args.end());
  std::optional<Type> result;
  for (const auto* sigs : {standard, declared}) {
    if (sigs == nullptr) continue;
    for (const Signature& sig : *sigs) {
      if (sig.receiver != (target != nullptr)) continue;
      if (sig.params.size() != actual.size()) continue;
      Bindings bindings;
      bool ok = true;
      for (size_t k = 0; k < actual.size() && ok; ++k) {
        ok = Match(sig.params[k], actual[k], bindings);
      }
      if (!ok) continue;
      Type r = Substitute(sig.result, bindings);
      result = result ? vars.Join(*result, r) : r;
    }
  }
  if (!result) return no_overload();
  return result;
}

}  // namespace reconnect::cel
