#include "service/audit/internal/sqlite.h"

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

void BindRuleSetEvent(Statement& insert, const RuleSetEvent& e) {
  insert.Bind(1, e.time_micros)
      .BindText(2, e.action)
      .BindText(3, e.who)
      .BindText(4, e.refused)
      .BindText(5, e.active_digest)
      .BindText(6, JsonArray(e.loaded_digests))
      .BindText(7, RefusalsJson(e.refusals));
}

}  // namespace reconnect::service::audit_internal
