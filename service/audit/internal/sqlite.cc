#include "service/audit/internal/sqlite.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace reconnect::service::audit_internal {

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("audit store: ", error ? error : sqlite3_errmsg(db)));
    sqlite3_free(error);
    return s;
  }
  return absl::OkStatus();
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace reconnect::service::audit_internal
