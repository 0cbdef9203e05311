#ifndef RECONNECT_SERVICE_WEB_JOB_VIEW_H_
#define RECONNECT_SERVICE_WEB_JOB_VIEW_H_

// How the console's pages show a background job (checking the trail, an
// impact analysis): a progress bar while it runs, which the page's script
// moves by polling the job's status; the form that starts one; and who.

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"

namespace reconnect::service::web {

// The person who started it, in words.
std::string StartedBy(const std::string& who);

// "Running, started by WHO: [progress] DONE of TOTAL UNIT".
std::string ProgressBar(int64_t done, int64_t total, const std::string& who,
                        const std::string& unit);

// The form that starts a job: its `fields` are posted as JSON to `action`
// by the page's script, which then follows `status`.
std::string JobForm(const std::string& action, const std::string& status,
                    const std::string& fields, const std::string& button,
                    bool running);

// {"running", "done", "total", "finished"}: what the page's script polls.
template <typename State>
nlohmann::json JobStatus(const State& s) {
  return {{"running", s.running},
          {"done", s.done},
          {"total", s.total},
          {"finished", s.result.has_value()}};
}

// A job that could not finish: the result block `id` with its reason, then
// `when` (who ran it, and when).
std::string JobFailed(const std::string& id, const std::string& what,
                      const std::string& reason, const std::string& when);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_JOB_VIEW_H_
