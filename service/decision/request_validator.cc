#include "service/decision/request_validator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reconnect::service {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

EvaluateRequestValidator::EvaluateRequestValidator(const Descriptor* root) {
  Plan(root);
}

int EvaluateRequestValidator::Plan(const Descriptor* d) {
  for (size_t i = 0; i < planned_.size(); ++i) {
    if (planned_[i] == d) return static_cast<int>(i);
  }
  const int index = static_cast<int>(planned_.size());
  planned_.push_back(d);
  plans_.emplace_back();
  std::vector<FieldPlan> plan;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    FieldPlan p{f, f->options().HasExtension(v1::limits), {}, -1};
    if (p.has_limits) p.limits = f->options().GetExtension(v1::limits);
    // Well-known types carry no limits of ours; their own JSON parsing
    // already bounds them.
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map() &&
        f->message_type()->file()->package() != "google.protobuf") {
      p.nested = Plan(f->message_type());
    }
    plan.push_back(std::move(p));
  }
  plans_[index] = std::move(plan);
  return index;
}

void EvaluateRequestValidator::Validate(
    const Message& message, const std::string& prefix,
    std::vector<FieldViolation>& out) const {
  const auto it =
      std::find(planned_.begin(), planned_.end(), message.GetDescriptor());
  if (it == planned_.end()) {
    out.push_back({prefix, "unexpected message type"});
    return;
  }
  ValidateWith(static_cast<int>(it - planned_.begin()), message, prefix, out);
}

namespace {

std::string FormatBound(double v) {
  return v == static_cast<double>(static_cast<int64_t>(v))
             ? absl::StrCat(static_cast<int64_t>(v))
             : absl::StrCat(v);
}

bool NumericValue(const Message& m, const FieldDescriptor* f, int index,
                  double& v) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      v = rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
      return true;
    case FieldDescriptor::CPPTYPE_INT64:
      v = static_cast<double>(rep ? r->GetRepeatedInt64(m, f, index)
                                  : r->GetInt64(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      v = rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      v = static_cast<double>(rep ? r->GetRepeatedUInt64(m, f, index)
                                  : r->GetUInt64(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_FLOAT:
      v = rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      v = rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
      return true;
    default:
      return false;
  }
}

}  // namespace

void EvaluateRequestValidator::ValidateWith(
    int plan, const Message& m, const std::string& prefix,
    std::vector<FieldViolation>& out) const {
  const Reflection* r = m.GetReflection();
  for (const FieldPlan& p : plans_[plan]) {
    const FieldDescriptor* f = p.field;
    const int count =
        f->is_repeated() ? r->FieldSize(m, f) : (r->HasField(m, f) ? 1 : 0);
    if (count == 0) continue;
    // Paths are built only when needed: for a violation, or to descend.
    auto path = [&] {
      return absl::StrCat(prefix, prefix.empty() ? "" : ".", f->name());
    };
    if (p.has_limits && p.limits.has_max_items() && f->is_repeated() &&
        count > static_cast<int>(p.limits.max_items())) {
      out.push_back(
          {path(), absl::StrCat("has ", count, " items; at most ",
                                p.limits.max_items(), " are allowed")});
      continue;
    }
    if (f->is_map()) continue;
    for (int i = 0; i < count; ++i) {
      const int index = f->is_repeated() ? i : -1;
      auto at = [&] {
        return f->is_repeated() ? absl::StrCat(path(), "[", i, "]") : path();
      };
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        const int v = f->is_repeated() ? r->GetRepeatedEnumValue(m, f, i)
                                       : r->GetEnumValue(m, f);
        if (f->enum_type()->FindValueByNumber(v) == nullptr) {
          out.push_back({at(), absl::StrCat("unknown ", f->enum_type()->name(),
                                            " value ", v)});
        }
      }
      double v;
      if (p.has_limits && NumericValue(m, f, index, v)) {
        if ((p.limits.has_min() && v < p.limits.min()) ||
            (p.limits.has_max() && v > p.limits.max())) {
          out.push_back(
              {at(),
               absl::StrCat(
                   "must be between ",
                   p.limits.has_min() ? FormatBound(p.limits.min()) : "-inf",
                   " and ",
                   p.limits.has_max() ? FormatBound(p.limits.max()) : "inf")});
        }
      }
      if (p.has_limits && p.limits.has_max_length() &&
          f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        std::string scratch;
        const std::string& s =
            f->is_repeated() ? r->GetRepeatedStringReference(m, f, i, &scratch)
                             : r->GetStringReference(m, f, &scratch);
        if (s.size() > p.limits.max_length()) {
          out.push_back(
              {at(), absl::StrCat("is ", s.size(), " bytes long; at most ",
                                  p.limits.max_length(), " are allowed")});
        }
      }
      if (p.nested >= 0) {
        const Message& sub = f->is_repeated() ? r->GetRepeatedMessage(m, f, i)
                                              : r->GetMessage(m, f);
        ValidateWith(p.nested, sub, at(), out);
      }
    }
  }
}

}  // namespace reconnect::service
