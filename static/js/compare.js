/* On the comparison page, picking another metric redraws the charts in place: the page
   asks the server for the charts of that metric alone (?part=figures) and keeps its URL in
   step, so the browser's address still reloads what is shown. Without JavaScript the form
   submits as usual. */
(function () {
  "use strict";

  var form = document.querySelector("[data-compare-form]");
  if (!form || !window.fetch) {
    return;
  }
  var select = form.querySelector("select[name=key]");
  var status = form.querySelector("[data-compare-status]");
  var charts = {
    curves: document.getElementById("chart-compare-curves"),
    params: document.getElementById("chart-params")
  };

  function reload() {
    form.submit();
  }

  function show(figures) {
    var same = Object.keys(charts).every(function (name) {
      return !!charts[name] === !!figures[name];
    });
    if (!same || !window.mlprojectsCharts) {
      reload(); /* a chart appears or goes: the page must change around it */
      return;
    }
    Object.keys(charts).forEach(function (name) {
      if (charts[name]) {
        window.mlprojectsCharts.draw(charts[name], figures[name]);
      }
    });
    document.querySelectorAll("[data-compare-key]").forEach(function (element) {
      element.textContent = figures.label; /* the success metric's label, else the key */
    });
    status.textContent = "Showing " + figures.label + ".";
  }

  select.addEventListener("change", function () {
    var query = new URLSearchParams(new FormData(form));
    var page = window.location.pathname + "?" + query.toString();
    query.set("part", "figures");
    status.textContent = "Loading " + select.value + "…";
    fetch(window.location.pathname + "?" + query.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (figures) {
        window.history.replaceState(null, "", page);
        show(figures);
      })
      .catch(reload);
  });
  form.querySelector("[data-compare-submit]").hidden = true;
})();
