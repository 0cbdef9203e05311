#include "service/web/job_view.h"

#include "absl/strings/str_cat.h"
#include "service/web/html.h"

namespace reconnect::service::web {

std::string StartedBy(const std::string& who) {
  return who.empty() ? "an unauthenticated local user" : who;
}

std::string ProgressBar(int64_t done, int64_t total, const std::string& who,
                        const std::string& unit) {
  return absl::StrCat(
      "<p id=\"job-running\">Running, started by ", Escape(StartedBy(who)),
      ": <progress id=\"job-progress\" max=\"", total > 0 ? total : 1,
      "\" value=\"", done, "\" aria-label=\"", Escape(unit),
      " done\"></progress> <span id=\"job-count\" data-unit=\"", Escape(unit),
      "\">", done, " of ", total, " ", Escape(unit), "</span></p>");
}

std::string JobForm(const std::string& action, const std::string& status,
                    const std::string& fields, const std::string& button,
                    bool running) {
  return absl::StrCat("<form class=\"job\" method=\"post\" action=\"", action,
                      "\" data-status=\"", status, "\">", fields,
                      "<button type=\"submit\"", running ? " disabled" : "",
                      ">", Escape(button),
                      "</button> <span class=\"status\" role=\"status\" "
                      "aria-live=\"polite\"></span></form>");
}

std::string JobFailed(const std::string& id, const std::string& what,
                      const std::string& reason, const std::string& when) {
  return absl::StrCat("<div class=\"alert critical\" id=\"", id,
                      "\" data-outcome=\"error\"><p><strong>", Escape(what),
                      " could not finish:</strong> ", Escape(reason),
                      "</p></div>", when);
}

}  // namespace reconnect::service::web
