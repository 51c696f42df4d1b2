/*
 * Keep a sweep's progress current without reloading its page.
 *
 * Polls the sweep's progress (JSON, from the element's data-progress-url) every few seconds
 * while the tab is visible and the sweep is queued, running or cancelling, and writes the
 * numbers into the progress bar and the counts as text (never as HTML). When the counts
 * move, it swaps in the trials' table as the server draws it now (data-trials-url) and
 * offers a reload for the charts. When the status changes, the page reloads once: the
 * buttons that apply (Cancel, Resume, Retry), the charts and the importances are the
 * server's to choose, for the new status, rather than this script's guess.
 */
(function () {
  "use strict";

  var region = document.querySelector("[data-progress-url]");
  if (!region || !window.fetch) {
    return;
  }
  var url = region.getAttribute("data-progress-url");
  var trialsUrl = region.getAttribute("data-trials-url");
  var drawn = region.getAttribute("data-status");
  var every = (parseInt(region.getAttribute("data-poll-seconds"), 10) || 3) * 1000;
  var active = ["queued", "running", "cancelling"];
  var bar = region.querySelector("progress");
  var notice = region.querySelector(".sweep-notice");
  var loaded = null;
  var timer = null;

  function text(value, digits) {
    if (value === null || value === undefined) {
      return "—";
    }
    if (typeof value === "number" && digits !== undefined) {
      return digits === 0 ? String(Math.round(value)) : value.toFixed(digits);
    }
    return String(value);
  }

  function show(progress) {
    bar.max = Math.max(progress.total, 1);
    bar.value = progress.done;
    bar.textContent = progress.done + " of " + progress.total;
    region.setAttribute("data-status", progress.status);
    var fields = region.querySelectorAll("[data-field]");
    for (var i = 0; i < fields.length; i++) {
      var name = fields[i].getAttribute("data-field");
      if (name === "status") {
        fields[i].textContent = progress.status.charAt(0).toUpperCase() + progress.status.slice(1);
        fields[i].className = "tag tag-sweep-" + progress.status;
      } else if (name === "best_value") {
        fields[i].textContent = text(progress.best_value, 4);
      } else if (name === "elapsed_seconds" || name === "remaining_seconds") {
        fields[i].textContent = text(progress[name], 0);
        var clause = region.querySelector("[data-clause=" + name + "]");
        if (clause) {
          clause.hidden = progress[name] === null;
        }
      } else if (name in progress) {
        fields[i].textContent = text(progress[name]);
      }
    }
    if (progress.status !== drawn) {
      window.location.reload();
      return;
    }
    var key = [progress.done, progress.running, progress.cancelled].join(":");
    if (loaded === null) {
      loaded = key;
    } else if (key !== loaded) {
      loaded = key;
      redrawTrials();
      if (notice) {
        notice.hidden = false;
      }
    }
  }

  function redrawTrials() {
    var table = document.getElementById("trials");
    if (!trialsUrl || !table || !window.DOMParser) {
      return;
    }
    fetch(trialsUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("trials answered " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("trials");
        if (fresh) {
          table.replaceWith(document.adoptNode(fresh));
        }
      })
      .catch(function () { /* the next change draws it again */ });
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!document.hidden && active.indexOf(region.getAttribute("data-status")) !== -1) {
      timer = window.setTimeout(refresh, every);
    }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress answered " + response.status);
        }
        return response.json();
      })
      .then(show)
      .catch(function () { /* try again at the next tick */ })
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      refresh();
    }
  });
  if (active.indexOf(region.getAttribute("data-status")) !== -1) {
    refresh();
  }
}());
