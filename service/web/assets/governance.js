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

// The console's background jobs (checking the trail, an impact analysis):
// a form starts one by a post, then the page follows its status, moving the
// progress bar, until it ends, when the page reloads to show the result.
(function () {
  async function follow(statusUrl) {
    for (;;) {
      let state;
      try {
        const reply = await fetch(statusUrl, { credentials: "same-origin" });
        if (!reply.ok) return;
        state = await reply.json();
      } catch (e) {
        // The service could not be reached: try again shortly.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      const bar = document.getElementById("job-progress");
      if (bar !== null) {
        bar.max = Math.max(state.total, 1);
        bar.value = state.done;
        const count = document.getElementById("job-count");
        count.textContent =
          state.done + " of " + state.total + " " + count.dataset.unit;
      }
      if (!state.running) {
        window.location.reload();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function start(event) {
    event.preventDefault();
    const form = event.currentTarget;
    form.querySelector("button").disabled = true;
    const status = form.querySelector(".status");
    status.textContent = "Starting\u2026";
    const body = {};
    for (const [name, value] of new FormData(form)) body[name] = value;
    let reply;
    try {
      reply = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(body),
      });
    } catch (e) {
      status.textContent = "Not started: the service could not be reached.";
      status.classList.add("error");
      form.querySelector("button").disabled = false;
      return;
    }
    if (reply.status !== 202 && reply.status !== 409) {
      let message = "Not started (" + reply.status + ").";
      try {
        const problem = await reply.json();
        if (problem.error) message = "Not started: " + problem.error;
      } catch (e) {
        // Not JSON: the status alone says it.
      }
      status.textContent = message;
      status.classList.add("error");
      form.querySelector("button").disabled = false;
      return;
    }
    // Reloaded, the page shows the progress bar and follows it.
    window.location.reload();
  }

  for (const form of document.querySelectorAll("form.job")) {
    form.addEventListener("submit", start);
    if (document.getElementById("job-progress") !== null) {
      follow(form.dataset.status);
    }
  }

  // A copy button beside each value worth keeping elsewhere.
  for (const value of document.querySelectorAll("[data-copy]")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + value.id.replace(/-/g, " "));
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(value.textContent);
        button.textContent = "Copied";
      } catch (e) {
        button.textContent = "Select and copy it";
      }
    });
    value.after(" ", button);
  }
})();
