// The governance console's one script: the admin's actions (activate a
// rule-set version, reload the rule sets), each asked for again in a
// confirmation dialog, then posted as JSON; the page reloads to show the
// result. Everything else on the console works without it. Served from the
// service itself, under a Content-Security-Policy that allows no inline
// script.
"use strict";

(function () {
  function say(form, text, isError) {
    const status = form.querySelector(".status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  async function act(event) {
    event.preventDefault();
    const form = event.currentTarget;
    if (!window.confirm(form.dataset.confirm)) {
      say(form, "Cancelled: nothing was changed.", false);
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say(form, "Working\u2026", false);
    const body = {};
    for (const [name, value] of new FormData(form)) body[name] = value;
    try {
      const reply = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(body),
      });
      let answer = {};
      try {
        answer = await reply.json();
      } catch (e) {
        // Not JSON: the status alone says it.
      }
      if (reply.ok) {
        say(form, answer.message || "Done.", false);
        window.location.reload();
        return;
      }
      say(form, "Not done: " + (answer.error || "status " + reply.status),
          true);
    } catch (e) {
      say(form, "Not done: the service could not be reached.", true);
    }
    button.disabled = false;
  }

  for (const form of document.querySelectorAll("form.admin-action")) {
    form.addEventListener("submit", act);
  }
})();
