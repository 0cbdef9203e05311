#ifndef RECONNECT_SERVICE_COMMON_STATUS_MACROS_H_
#define RECONNECT_SERVICE_COMMON_STATUS_MACROS_H_

// The one way a function passes a failure it cannot get past to its caller.
//
//   RETURN_IF_ERROR(store.Append(record));
//   ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(path, "--tls_cert"));
//
// RETURN_IF_ERROR(expr): `expr` is an absl::Status (or a StatusOr, whose
// status is taken); when it is not OK, the enclosing function returns it.
// ASSIGN_OR_RETURN(lhs, expr): `expr` is an absl::StatusOr<T>; when it is
// OK its value is moved into `lhs` (a declaration or an lvalue), otherwise
// the enclosing function returns its status. The enclosing function returns
// absl::Status or any absl::StatusOr<U>.

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reconnect::service::status_internal {

inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace reconnect::service::status_internal

#define RECONNECT_STATUS_CONCAT_INNER(a, b) a##b
#define RECONNECT_STATUS_CONCAT(a, b) RECONNECT_STATUS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                                      \
  do {                                                             \
    if (const absl::Status reconnect_status_ =                     \
            ::reconnect::service::status_internal::AsStatus(expr); \
        !reconnect_status_.ok()) {                                 \
      return reconnect_status_;                                    \
    }                                                              \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr) \
  RECONNECT_ASSIGN_OR_RETURN_IMPL(  \
      RECONNECT_STATUS_CONCAT(reconnect_statusor_, __LINE__), lhs, expr)

#define RECONNECT_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = *std::move(statusor)

#endif  // RECONNECT_SERVICE_COMMON_STATUS_MACROS_H_
