#include "service/decision/request_validator.h"

#include <algorithm>
#include <cmath>
#include <vector>

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
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const Descriptor* type =
          f->is_map() ? f->message_type()->map_value()->message_type()
                      : f->message_type();
      const std::string name = type == nullptr ? "" : type->full_name();
      p.timestamp = !f->is_map() && name == "google.protobuf.Timestamp";
      p.dynamic_value = name == "google.protobuf.Value" ||
                        name == "google.protobuf.Struct" ||
                        name == "google.protobuf.ListValue";
      // Other well-known types carry no limits of ours.
      if (!f->is_map() && type->file()->package() != "google.protobuf") {
        p.nested = Plan(type);
      }
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

// Protobuf's range of a Timestamp: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

// Whether the Timestamp `m` is valid as protobuf defines it.
bool ValidTimestamp(const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  const int64_t seconds = r->GetInt64(m, d->FindFieldByName("seconds"));
  const int32_t nanos = r->GetInt32(m, d->FindFieldByName("nanos"));
  return seconds >= kMinTimestampSeconds && seconds <= kMaxTimestampSeconds &&
         nanos >= 0 && nanos <= 999'999'999;
}

// Whether every number in `m` (a google.protobuf.Value, Struct or
// ListValue, however nested) is finite. Protobuf's parsers bound the
// nesting.
bool AllNumbersFinite(const Message& m) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE &&
        !std::isfinite(r->GetDouble(m, f))) {
      return false;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (!AllNumbersFinite(r->GetRepeatedMessage(m, f, i))) return false;
      }
    } else if (!AllNumbersFinite(r->GetMessage(m, f))) {
      return false;
    }
  }
  return true;
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
    if (f->is_map()) {
      ValidateMap(p, m, path(), out);
      continue;
    }
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
      const bool floating = f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE ||
                            f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT;
      if (floating && NumericValue(m, f, index, v) && !std::isfinite(v)) {
        // Every comparison with NaN is false, so a range alone would let
        // it through: refused whatever the options say.
        out.push_back({at(), std::isnan(v) ? "is not a number (NaN)"
                                           : "must be a finite number"});
        continue;
      }
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
      if (p.nested >= 0 || p.timestamp || p.dynamic_value) {
        const Message& sub = f->is_repeated() ? r->GetRepeatedMessage(m, f, i)
                                              : r->GetMessage(m, f);
        if (p.nested >= 0) ValidateWith(p.nested, sub, at(), out);
        if (p.timestamp && !ValidTimestamp(sub)) {
          out.push_back({at(),
                         "is not a valid timestamp (0001-01-01 to 9999-12-31, "
                         "nanos 0 to 999999999)"});
        }
        if (p.dynamic_value && !AllNumbersFinite(sub)) {
          out.push_back({at(), "holds a number that is not finite"});
        }
      }
    }
  }
}

void EvaluateRequestValidator::ValidateMap(
    const FieldPlan& p, const Message& m, const std::string& path,
    std::vector<FieldViolation>& out) const {
  const Reflection* r = m.GetReflection();
  const FieldDescriptor* f = p.field;
  const FieldDescriptor* key = f->message_type()->map_key();
  const FieldDescriptor* value = f->message_type()->map_value();
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    const Message& entry = r->GetRepeatedMessage(m, f, i);
    const Reflection* er = entry.GetReflection();
    // Violations name the entry by position: a key may be long, and is data.
    const std::string at = absl::StrCat(path, "[", i, "]");
    if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING && p.has_limits &&
        p.limits.has_max_key_length()) {
      std::string scratch;
      const std::string& k = er->GetStringReference(entry, key, &scratch);
      if (k.size() > p.limits.max_key_length()) {
        out.push_back(
            {at, absl::StrCat("has a key ", k.size(), " bytes long; at most ",
                              p.limits.max_key_length(), " are allowed")});
      }
    }
    if (value->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const Message& v = er->GetMessage(entry, value);
    if (p.has_limits && p.limits.has_max_value_bytes() &&
        v.ByteSizeLong() > p.limits.max_value_bytes()) {
      out.push_back(
          {at,
           absl::StrCat("has a value of ", v.ByteSizeLong(), " bytes; at most ",
                        p.limits.max_value_bytes(), " are allowed")});
    }
    if (p.dynamic_value && !AllNumbersFinite(v)) {
      out.push_back({at, "holds a number that is not finite"});
    }
  }
}

}  // namespace reconnect::service
