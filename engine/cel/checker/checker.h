#ifndef RECONNECT_ENGINE_CEL_CHECKER_CHECKER_H_
#define RECONNECT_ENGINE_CEL_CHECKER_CHECKER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/cel/checker/overloads.h"
#include "engine/cel/checker/types.h"
#include "engine/cel/common/ast.h"
#include "engine/cel/common/source.h"
#include "google/protobuf/descriptor.h"

namespace reconnect::cel {

// The names an expression may use: variables (possibly qualified, such as
// `params.limit`), and the message and enum types of a descriptor pool,
// resolved relative to a container as CEL specifies.
class CheckerEnv {
 public:
  // `pool` must outlive the environment.
  CheckerEnv(const google::protobuf::DescriptorPool* pool,
             std::string container);

  void AddVariable(std::string name, Type type);
  // Declares a function beyond the standard library, for type-checking
  // only: the runtime evaluates the standard library alone, so tools that
  // check expressions against a wider environment use this.
  void AddFunction(std::string name, Overload overload);
  const google::protobuf::DescriptorPool* pool() const { return pool_; }
  // Strong enum typing (see ExpressionSetBuilder::UseStrongEnums).
  void set_strong_enums(bool on) { strong_enums_ = on; }
  bool strong_enums() const { return strong_enums_; }
  const std::string& container() const { return container_; }

  // The candidate full names of `name`, most qualified first.
  std::vector<std::string> Candidates(std::string_view name) const;
  const Type* FindVariable(const std::string& full_name) const;
  const std::vector<Overload>* FindFunction(const std::string& full_name) const;

 private:
  const google::protobuf::DescriptorPool* pool_;
  std::string container_;
  bool strong_enums_ = false;
  absl::flat_hash_map<std::string, Type> variables_;
  absl::flat_hash_map<std::string, std::vector<Overload>> functions_;
};

// What an identifier, or a qualified name written as a select chain, refers to.
struct Reference {
  enum class Kind : uint8_t { kVariable, kLocal, kEnumValue, kTypeName };
  Kind kind = Kind::kVariable;
  // Resolved full name. On a call, kTypeName names the enum type the call
  // converts to (strong enum typing).
  std::string name;
  int64_t enum_value = 0;  // kEnumValue
};

struct CheckResult {
  std::vector<Issue> issues;
  Type type;  // of the whole expression
  absl::flat_hash_map<int64_t, Type> types;
  absl::flat_hash_map<int64_t, Reference> references;
};

// Type-checks `expr` against `env`. Every problem becomes an issue with the
// position of the offending node; checking continues past errors.
CheckResult Check(const Expr& expr, const Source& source,
                  const CheckerEnv& env);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_CHECKER_CHECKER_H_
