// CEL unknowns (partial evaluation): values that depend on absent facts,
// and how they combine with errors, as cel-spec's eval.proto defines it
// (ExprValue.unknown).

#include <algorithm>

#include "engine/cel/common/value.h"

namespace reconnect::cel {

Value Value::Unknown(int attribute) {
  Value r;
  r.kind_ = Kind::kUnknown;
  r.nanos_ = 1;
  r.scalar_.pair[0] = attribute;
  r.scalar_.pair[1] = 0;
  return r;
}

Value Value::Unknown(const std::vector<int>& attributes) {
  Value r;
  r.kind_ = Kind::kUnknown;
  r.nanos_ = static_cast<uint32_t>(attributes.size());
  if (attributes.size() <= 2) {
    r.scalar_.pair[0] = attributes.empty() ? 0 : attributes[0];
    r.scalar_.pair[1] = attributes.size() < 2 ? 0 : attributes[1];
    return r;
  }
  auto owned = std::make_shared<const std::vector<int>>(attributes);
  r.scalar_.p = owned.get();
  r.owner_ = std::move(owned);
  return r;
}

std::vector<int> Value::unknown_attributes() const {
  std::vector<int> out;
  out.reserve(unknown_size());
  for (size_t i = 0; i < unknown_size(); ++i) {
    out.push_back(unknown_attribute(i));
  }
  return out;
}

namespace {

bool SameUnknown(const Value& a, const Value& b) {
  if (a.unknown_size() != b.unknown_size()) return false;
  for (size_t i = 0; i < a.unknown_size(); ++i) {
    if (a.unknown_attribute(i) != b.unknown_attribute(i)) return false;
  }
  return true;
}

Value MergeUnknowns(const Value* values, size_t n) {
  // Most often one unknown, or the same one twice (has(x) && x > 1): no
  // merging, no allocation.
  const Value* first = nullptr;
  bool same = true;
  for (size_t i = 0; i < n; ++i) {
    if (!values[i].is_unknown()) continue;
    if (first == nullptr) {
      first = &values[i];
    } else {
      same = same && SameUnknown(*first, values[i]);
    }
  }
  if (same) return *first;
  std::vector<int> merged;
  for (size_t i = 0; i < n; ++i) {
    if (!values[i].is_unknown()) continue;
    for (size_t j = 0; j < values[i].unknown_size(); ++j) {
      merged.push_back(values[i].unknown_attribute(j));
    }
  }
  std::sort(merged.begin(), merged.end());
  merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  return Value::Unknown(merged);
}

}  // namespace

std::optional<Value> StrictOutcome(const Value* values, size_t n) {
  bool unknown = false;
  for (size_t i = 0; i < n; ++i) {
    if (values[i].is_error()) return values[i];
    unknown = unknown || values[i].is_unknown();
  }
  if (!unknown) return std::nullopt;
  return MergeUnknowns(values, n);
}

std::optional<Value> LogicalOutcome(const Value& a, const Value& b) {
  if (a.is_unknown() && !b.is_unknown()) return a;
  if (b.is_unknown() && !a.is_unknown()) return b;
  if (a.is_unknown()) {
    if (SameUnknown(a, b)) return a;
    const Value both[2] = {a, b};
    return MergeUnknowns(both, 2);
  }
  if (a.is_error()) return a;
  if (b.is_error()) return b;
  return std::nullopt;
}

}  // namespace reconnect::cel
