// The MDT care-plan page's one script: records the team's decision on an
// item (POST, JSON) and reloads the page to show it. Everything else on the
// page works without it. Served from the service itself, under a
// Content-Security-Policy that allows no inline script.
"use strict";

(function () {
  function recordedStatus(form, text, isError) {
    const status = form.querySelector(".status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  function entry(form) {
    const data = new FormData(form);
    const body = { item: form.dataset.item, outcome: data.get("outcome") };
    for (const name of ["modification", "reason", "comment"]) {
      const value = (data.get(name) || "").trim();
      if (value !== "") body[name] = value;
    }
    return body;
  }

  async function record(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    recordedStatus(form, "Recording\u2026", false);
    try {
      const reply = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(entry(form)),
      });
      if (reply.ok) {
        recordedStatus(form, "Recorded.", false);
        window.location.reload();
        return;
      }
      let message = "Not recorded (" + reply.status + ").";
      try {
        const problem = await reply.json();
        if (problem.error) message = "Not recorded: " + problem.error;
      } catch (e) {
        // Not JSON: keep the status alone.
      }
      recordedStatus(form, message, true);
    } catch (e) {
      recordedStatus(form, "Not recorded: the service could not be reached.",
                     true);
    }
    button.disabled = false;
  }

  for (const form of document.querySelectorAll("form.record")) {
    form.addEventListener("submit", record);
  }
})();
