#include "engine/cel/checker/types.h"

#include "absl/strings/str_cat.h"

namespace reconnect::cel {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

Type Type::List(Type elem) {
  Type t(Kind::kList);
  t.first_ = std::make_shared<const Type>(std::move(elem));
  return t;
}
Type Type::Map(Type key, Type value) {
  Type t(Kind::kMap);
  t.first_ = std::make_shared<const Type>(std::move(key));
  t.second_ = std::make_shared<const Type>(std::move(value));
  return t;
}
Type Type::Message(const Descriptor* d) {
  Type t(Kind::kMessage);
  t.message_ = d;
  return t;
}
Type Type::Wrapper(Type primitive) {
  Type t(Kind::kWrapper);
  t.first_ = std::make_shared<const Type>(std::move(primitive));
  return t;
}
Type Type::Abstract(std::string name, std::vector<Type> params) {
  Type t(Kind::kAbstract);
  t.name_ = std::make_shared<const std::string>(std::move(name));
  t.params_ = std::make_shared<const std::vector<Type>>(std::move(params));
  return t;
}
Type Type::Enum(const google::protobuf::EnumDescriptor* e) {
  Type t(Kind::kEnum);
  t.enum_ = e;
  return t;
}
Type Type::TypeOf(Type of) {
  Type t(Kind::kType);
  t.first_ = std::make_shared<const Type>(std::move(of));
  return t;
}
Type Type::Var(int id) {
  Type t(Kind::kVar);
  t.var_id_ = id;
  return t;
}
Type Type::TypeParam(std::string name) {
  Type t(Kind::kTypeParam);
  t.name_ = std::make_shared<const std::string>(std::move(name));
  return t;
}

std::string Type::ToString() const {
  switch (kind_) {
    case Kind::kDyn:
      return "dyn";
    case Kind::kNull:
      return "null_type";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kUint:
      return "uint";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return absl::StrCat("list(", first_->ToString(), ")");
    case Kind::kMap:
      return absl::StrCat("map(", first_->ToString(), ", ", second_->ToString(),
                          ")");
    case Kind::kMessage:
      return message_->full_name();
    case Kind::kType:
      return first_ ? absl::StrCat("type(", first_->ToString(), ")") : "type";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
    case Kind::kWrapper:
      return absl::StrCat("wrapper(", first_->ToString(), ")");
    case Kind::kAbstract: {
      if (params_->empty()) return *name_;
      std::string out = absl::StrCat(*name_, "(");
      for (size_t i = 0; i < params_->size(); ++i) {
        absl::StrAppend(&out, i ? ", " : "", (*params_)[i].ToString());
      }
      return absl::StrCat(out, ")");
    }
    case Kind::kTypeParam:
      return *name_;
    case Kind::kFree:
      return "dyn";
    case Kind::kEnum:
      return enum_->full_name();
    case Kind::kVar:
      return "dyn";
  }
  return "dyn";
}

namespace {

bool IsNullable(const Type& t) {
  switch (t.kind()) {
    case Type::Kind::kNull:
    case Type::Kind::kMessage:
    case Type::Kind::kWrapper:
    case Type::Kind::kAbstract:
    case Type::Kind::kDuration:
    case Type::Kind::kTimestamp:
      return true;
    default:
      return false;
  }
}

bool SameConstructor(const Type& a, const Type& b) {
  return a.kind() == Type::Kind::kAbstract &&
         b.kind() == Type::Kind::kAbstract && a.name() == b.name() &&
         a.params().size() == b.params().size();
}

// `t` with `f` applied to each of its type parameters (list element, map key
// and value, wrapped type, type of, abstract parameters).
template <typename F>
Type MapChildren(const Type& t, F f) {
  using K = Type::Kind;
  switch (t.kind()) {
    case K::kList:
      return Type::List(f(t.elem()));
    case K::kMap:
      return Type::Map(f(t.elem()), f(t.map_value()));
    case K::kWrapper:
      return Type::Wrapper(f(t.elem()));
    case K::kType:
      return t.has_elem() ? Type::TypeOf(f(t.elem())) : t;
    case K::kAbstract: {
      std::vector<Type> params;
      for (const Type& p : t.params()) params.push_back(f(p));
      return Type::Abstract(t.name(), std::move(params));
    }
    default:
      return t;
  }
}

}  // namespace

Type TypeVars::Fresh() {
  bound_.emplace_back();
  return Type::Var(static_cast<int>(bound_.size()) - 1);
}

Type TypeVars::Resolve(const Type& t) const {
  if (t.kind() == Type::Kind::kVar) {
    const auto& b = bound_[t.var_id()];
    return b ? Resolve(*b) : t;
  }
  return MapChildren(t, [this](const Type& c) { return Resolve(c); });
}

Type TypeVars::Finalize(const Type& t) const {
  const Type r = Resolve(t);
  if (r.kind() == Type::Kind::kVar) return Type::Dyn();
  return MapChildren(r, [this](const Type& c) { return Finalize(c); });
}

bool TypeVars::Occurs(int id, const Type& t) const {
  using K = Type::Kind;
  switch (t.kind()) {
    case K::kVar:
      return t.var_id() == id;
    case K::kList:
    case K::kWrapper:
      return Occurs(id, t.elem());
    case K::kType:
      return t.has_elem() && Occurs(id, t.elem());
    case K::kMap:
      return Occurs(id, t.elem()) || Occurs(id, t.map_value());
    case K::kAbstract:
      for (const Type& p : t.params()) {
        if (Occurs(id, p)) return true;
      }
      return false;
    default:
      return false;
  }
}

std::optional<Type> TypeVars::Unify(const Type& a, const Type& b) {
  const size_t mark = trail_.size();
  std::optional<Type> u = UnifyResolved(Resolve(a), Resolve(b));
  if (!u) {
    // Undo what this attempt bound.
    for (size_t i = mark; i < trail_.size(); ++i) bound_[trail_[i]].reset();
  }
  trail_.resize(mark);
  return u;
}

std::optional<Type> TypeVars::UnifyResolved(const Type& a, const Type& b) {
  using K = Type::Kind;
  if (a.kind() == K::kVar || b.kind() == K::kVar) {
    const Type& var = a.kind() == K::kVar ? a : b;
    const Type& other = a.kind() == K::kVar ? b : a;
    if (other.kind() == K::kVar && other.var_id() == var.var_id()) return var;
    if (other.kind() == K::kFree) return var;
    if (Occurs(var.var_id(), other)) return std::nullopt;
    bound_[var.var_id()] = other;
    trail_.push_back(var.var_id());
    return other;
  }
  if (a.kind() == K::kFree) return b;
  if (b.kind() == K::kFree) return a;
  if (a.kind() == K::kDyn || b.kind() == K::kDyn) return Type::Dyn();
  if (a == b) return a;
  if (a.kind() == K::kNull && IsNullable(b)) return b;
  if (b.kind() == K::kNull && IsNullable(a)) return a;
  if (a.kind() == K::kWrapper && a.elem() == b) return a;
  if (b.kind() == K::kWrapper && b.elem() == a) return b;
  if (a.kind() == K::kList && b.kind() == K::kList) {
    auto e = UnifyResolved(Resolve(a.elem()), Resolve(b.elem()));
    if (!e) return std::nullopt;
    return Type::List(*e);
  }
  if (a.kind() == K::kMap && b.kind() == K::kMap) {
    auto k = UnifyResolved(Resolve(a.elem()), Resolve(b.elem()));
    if (!k) return std::nullopt;
    auto v = UnifyResolved(Resolve(a.map_value()), Resolve(b.map_value()));
    if (!v) return std::nullopt;
    return Type::Map(*k, *v);
  }
  if (SameConstructor(a, b)) {
    std::vector<Type> params;
    for (size_t i = 0; i < a.params().size(); ++i) {
      auto p = UnifyResolved(Resolve(a.params()[i]), Resolve(b.params()[i]));
      if (!p) return std::nullopt;
      params.push_back(*p);
    }
    return Type::Abstract(a.name(), std::move(params));
  }
  return std::nullopt;
}

std::optional<Type> Unify(const Type& a, const Type& b) {
  TypeVars none;
  return none.Unify(a, b);
}

bool Type::IsAssignableFrom(const Type& other) const {
  if (is_dyn() || other.is_dyn()) return true;
  if (kind_ == Kind::kTypeParam || other.kind_ == Kind::kTypeParam) {
    return true;
  }
  if (kind_ == Kind::kWrapper) {
    if (other.kind_ == Kind::kNull) return true;
    if (other.kind_ != Kind::kWrapper) return first_->IsAssignableFrom(other);
  } else if (other.kind_ == Kind::kWrapper) {
    return IsAssignableFrom(*other.first_);
  }
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kWrapper:
      return first_->IsAssignableFrom(*other.first_);
    case Kind::kAbstract:
      if (!SameConstructor(*this, other)) return false;
      for (size_t i = 0; i < params_->size(); ++i) {
        if (!(*params_)[i].IsAssignableFrom((*other.params_)[i])) return false;
      }
      return true;
    case Kind::kList:
      return first_->IsAssignableFrom(*other.first_);
    case Kind::kMap:
      return first_->IsAssignableFrom(*other.first_) &&
             second_->IsAssignableFrom(*other.second_);
    case Kind::kMessage:
      return message_ == other.message_;
    case Kind::kEnum:
      return enum_ == other.enum_;
    default:
      return true;
  }
}

bool operator==(const Type& a, const Type& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Type::Kind::kList:
      return *a.first_ == *b.first_;
    case Type::Kind::kMap:
      return *a.first_ == *b.first_ && *a.second_ == *b.second_;
    case Type::Kind::kMessage:
      return a.message_ == b.message_;
    case Type::Kind::kWrapper:
      return *a.first_ == *b.first_;
    case Type::Kind::kAbstract:
      return *a.name_ == *b.name_ && *a.params_ == *b.params_;
    case Type::Kind::kTypeParam:
      return *a.name_ == *b.name_;
    case Type::Kind::kEnum:
      return a.enum_ == b.enum_;
    case Type::Kind::kVar:
      return a.var_id_ == b.var_id_;
    default:
      return true;
  }
}

Type MessageCelType(const Descriptor* d) {
  const std::string& n = d->full_name();
  if (n == "google.protobuf.Timestamp") return Type::Timestamp();
  if (n == "google.protobuf.Duration") return Type::Duration();
  if (n == "google.protobuf.Value") return Type::Dyn();
  if (n == "google.protobuf.Struct")
    return Type::Map(Type::String(), Type::Dyn());
  if (n == "google.protobuf.ListValue") return Type::List(Type::Dyn());
  if (n == "google.protobuf.Any") return Type::Dyn();
  if (n == "google.protobuf.BoolValue") return Type::Wrapper(Type::Bool());
  if (n == "google.protobuf.Int32Value" || n == "google.protobuf.Int64Value") {
    return Type::Wrapper(Type::Int());
  }
  if (n == "google.protobuf.UInt32Value" ||
      n == "google.protobuf.UInt64Value") {
    return Type::Wrapper(Type::Uint());
  }
  if (n == "google.protobuf.FloatValue" || n == "google.protobuf.DoubleValue") {
    return Type::Wrapper(Type::Double());
  }
  if (n == "google.protobuf.StringValue") return Type::Wrapper(Type::String());
  if (n == "google.protobuf.BytesValue") return Type::Wrapper(Type::Bytes());
  return Type::Message(d);
}

const FieldDescriptor* FindFieldOrExtension(const Descriptor* d,
                                            const std::string& name) {
  if (const FieldDescriptor* f = d->FindFieldByName(name)) return f;
  if (name.find('.') == std::string::npos) return nullptr;
  const FieldDescriptor* ext = d->file()->pool()->FindExtensionByName(name);
  return ext != nullptr && ext->containing_type() == d ? ext : nullptr;
}

Type SingularFieldType(const FieldDescriptor* f, bool strong_enums) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM:
      return strong_enums ? Type::Enum(f->enum_type()) : Type::Int();
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      return Type::Int();
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return Type::Uint();
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Type::Double();
    case FieldDescriptor::CPPTYPE_BOOL:
      return Type::Bool();
    case FieldDescriptor::CPPTYPE_STRING:
      return f->type() == FieldDescriptor::TYPE_BYTES ? Type::Bytes()
                                                      : Type::String();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageCelType(f->message_type());
  }
  return Type::Dyn();
}

Type FieldType(const FieldDescriptor* f, bool strong_enums) {
  if (f->is_map()) {
    return Type::Map(
        SingularFieldType(f->message_type()->map_key(), strong_enums),
        SingularFieldType(f->message_type()->map_value(), strong_enums));
  }
  if (f->is_repeated()) return Type::List(SingularFieldType(f, strong_enums));
  return SingularFieldType(f, strong_enums);
}

}  // namespace reconnect::cel
