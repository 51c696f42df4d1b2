/*
 * Keep the status block of a project page current without reloading the page.
 *
 * Polls the block's own URL (an HTML fragment rendered by the server, escaped like every
 * page) every few seconds while the tab is visible, and stops when the tab is hidden.
 * It never replaces the block while someone is typing in it. When the project has moved to
 * another phase, it says so, since the timeline and history below are then out of date.
 */
(function () {
  "use strict";

  var region = document.querySelector("[data-live-url]");
  if (!region || !window.fetch) {
    return;
  }
  var url = region.getAttribute("data-live-url");
  var every = (parseInt(region.getAttribute("data-live-interval"), 10) || 20) * 1000;
  var loadedState = region.getAttribute("data-state");
  var notice = document.querySelector(".live-notice");
  var timer = null;
  var busy = false;
  var stopped = false;

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) {
      timer = window.setTimeout(refresh, every);
    }
  }

  function editing() {
    var active = document.activeElement;
    return active && active !== document.body && region.contains(active) &&
      (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
  }

  function stop(message) {
    stopped = true;
    if (notice) {
      notice.querySelector("p").textContent = message;
      notice.hidden = false;
    }
  }

  function apply(html, state) {
    var parsed = new DOMParser().parseFromString(html, "text/html");
    region.replaceChildren.apply(region, Array.prototype.slice.call(parsed.body.childNodes));
    if (notice && state !== null && state !== loadedState) {
      notice.hidden = false;
    }
  }

  function refresh() {
    if (busy || stopped || document.hidden || editing()) {
      schedule();
      return;
    }
    busy = true;
    window.fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "text/html", "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.redirected || response.status === 403 || response.status === 404) {
        stop("This page is no longer available to you; reload it to check.");
        return;
      }
      if (!response.ok) {
        return;
      }
      var state = response.headers.get("X-Live-State");
      return response.text().then(function (html) { apply(html, state); });
    }).catch(function () {
      /* Offline or a server restart: try again at the next tick. */
    }).then(function () {
      busy = false;
      schedule();
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearTimeout(timer);
    } else {
      refresh();
    }
  });
  schedule();
})();
