#include "service/fhir/internal/reading.h"

#include <cmath>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace reconnect::service::fhir::fhir_internal {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using nlohmann::json;

std::string Text(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Reference(const json& resource) {
  return absl::StrCat(Text(resource, "resourceType"), "/",
                      Text(resource, "id"));
}

std::vector<Found> Resources(const json& prefetch,
                             std::vector<Problem>& problems) {
  std::vector<Found> out;
  if (!prefetch.is_object()) {
    problems.push_back({"prefetch", "must be an object of prefetch keys"});
    return out;
  }
  for (const auto& [key, value] : prefetch.items()) {
    const std::string path = absl::StrCat("prefetch.", key);
    if (value.is_null()) continue;
    if (!value.is_object() || !value.contains("resourceType") ||
        !value["resourceType"].is_string()) {
      problems.push_back({path, "must be a FHIR resource (with resourceType)"});
      continue;
    }
    if (Text(value, "resourceType") != "Bundle") {
      out.push_back({&value, path});
      continue;
    }
    if (!value.contains("entry")) continue;  // an empty searchset
    const json& entries = value["entry"];
    if (!entries.is_array()) {
      problems.push_back({path + ".entry", "must be a list"});
      continue;
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string at = absl::StrCat(path, ".entry[", i, "].resource");
      const json& entry = entries[i];
      if (!entry.is_object() || !entry.contains("resource")) continue;
      const json& resource = entry["resource"];
      if (!resource.is_object() || !resource.contains("resourceType") ||
          !resource["resourceType"].is_string()) {
        problems.push_back({at, "must be a FHIR resource (with resourceType)"});
        continue;
      }
      out.push_back({&resource, at});
    }
  }
  return out;
}

// "system|code" of each coding in `codeable` (a CodeableConcept).
std::vector<std::string> Codes(const json& codeable) {
  std::vector<std::string> out;
  if (!codeable.is_object() || !codeable.contains("coding") ||
      !codeable["coding"].is_array()) {
    return out;
  }
  for (const json& c : codeable["coding"]) {
    const std::string code = Text(c, "code");
    if (!code.empty())
      out.push_back(absl::StrCat(Text(c, "system"), "|", code));
  }
  return out;
}

std::string ReferenceKey(const std::string& reference) {
  std::vector<std::string> parts = absl::StrSplit(reference, '/');
  if (parts.size() >= 4 && parts[parts.size() - 2] == "_history") {
    parts.resize(parts.size() - 2);
  }
  if (parts.size() < 2) return "";
  return absl::StrCat(parts[parts.size() - 2], "/", parts.back());
}

std::string SetField(Message& target, const FieldDescriptor* f,
                     const json& value) {
  Message* message = &target;
  const auto* r = message->GetReflection();
  auto integer = [&](int64_t lo, int64_t hi) -> std::optional<int64_t> {
    if (value.is_number_integer()) {
      if (value.is_number_unsigned() &&
          value.get<uint64_t>() >
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
      }
      const int64_t v = value.get<int64_t>();
      if (v < lo || v > hi) return std::nullopt;
      return v;
    }
    if (value.is_number_float()) {
      const double d = value.get<double>();
      if (!std::isfinite(d) || d != std::floor(d) ||
          d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
        return std::nullopt;
      }
      return static_cast<int64_t>(d);
    }
    return std::nullopt;
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      auto v = integer(std::numeric_limits<int32_t>::min(),
                       std::numeric_limits<int32_t>::max());
      if (!v) return "must be a whole number";
      r->SetInt32(message, f, static_cast<int32_t>(*v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      auto v = integer(std::numeric_limits<int64_t>::min(),
                       std::numeric_limits<int64_t>::max());
      if (!v) return "must be a whole number";
      r->SetInt64(message, f, *v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      auto v = integer(0, std::numeric_limits<uint32_t>::max());
      if (!v) return "must be a whole number, 0 or more";
      r->SetUInt32(message, f, static_cast<uint32_t>(*v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      auto v = integer(0, std::numeric_limits<int64_t>::max());
      if (!v) return "must be a whole number, 0 or more";
      r->SetUInt64(message, f, static_cast<uint64_t>(*v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      if (!value.is_number()) return "must be a number";
      const double d = value.get<double>();
      if (!std::isfinite(d)) return "must be a finite number";
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        r->SetDouble(message, f, d);
      } else {
        r->SetFloat(message, f, static_cast<float>(d));
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!value.is_boolean()) return "must be true or false";
      r->SetBool(message, f, value.get<bool>());
      return "";
    case FieldDescriptor::CPPTYPE_STRING: {
      if (!value.is_string()) return "must be text";
      const std::string text = value.get<std::string>();
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(*message, f); ++i) {
          if (r->GetRepeatedString(*message, f, i) == text) return "";
        }
        r->AddString(message, f, text);
      } else {
        r->SetString(message, f, text);
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (!value.is_number_integer()) return "must be one of the mapped codes";
      const int number = value.get<int>();
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(*message, f); ++i) {
          if (r->GetRepeatedEnumValue(*message, f, i) == number) return "";
        }
        r->AddEnumValue(message, f, number);
      } else {
        r->SetEnumValue(message, f, number);
      }
      return "";
    }
    default:
      return "cannot be set";
  }
}

namespace {

// Questionnaires nest items a few levels deep; deeper is refused rather
// than followed, so that hostile input cannot exhaust the stack.
constexpr int kMaxItemDepth = 16;

void Items(const json& holder, const std::string& path, int depth,
           ItemIndex& by_link_id, std::vector<Problem>& problems) {
  if (!holder.is_object() || !holder.contains("item") ||
      !holder["item"].is_array()) {
    return;
  }
  if (depth >= kMaxItemDepth) {
    problems.push_back(
        {path + ".item",
         absl::StrCat("items nest deeper than ", kMaxItemDepth, " levels")});
    return;
  }
  const json& items = holder["item"];
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string at = absl::StrCat(path, ".item[", i, "]");
    const json& item = items[i];
    const std::string link_id = Text(item, "linkId");
    if (!link_id.empty())
      by_link_id.emplace(link_id, std::make_pair(&item, at));
    Items(item, at, depth + 1, by_link_id, problems);
    if (item.is_object() && item.contains("answer") &&
        item["answer"].is_array()) {
      for (size_t a = 0; a < item["answer"].size(); ++a) {
        Items(item["answer"][a], absl::StrCat(at, ".answer[", a, "]"),
              depth + 1, by_link_id, problems);
      }
    }
  }
}

}  // namespace

void ForEachAnswer(
    const ItemIndex& items, const std::string& link_id,
    std::vector<Problem>& problems,
    absl::FunctionRef<bool(const json&, const std::string&)> each) {
  auto [begin, end] = items.equal_range(link_id);
  for (auto it = begin; it != end; ++it) {
    const auto& [item, path] = it->second;
    if (!item->contains("answer")) continue;
    const json& answers = (*item)["answer"];
    if (!answers.is_array()) {
      problems.push_back({path + ".answer", "must be a list"});
      continue;
    }
    for (size_t a = 0; a < answers.size(); ++a) {
      if (!each(answers[a], absl::StrCat(path, ".answer[", a, "]"))) break;
    }
  }
}

void IndexItems(const json& holder, const std::string& path,
                ItemIndex& by_link_id, std::vector<Problem>& problems) {
  Items(holder, path, 0, by_link_id, problems);
}

}  // namespace reconnect::service::fhir::fhir_internal
