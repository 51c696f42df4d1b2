/* Draw every Plotly figure of the page from the JSON the server embedded beside it. */
(function () {
  "use strict";

  var WEBGL_TRACES = ["parcoords"];
  var webgl = null;

  /* Parallel coordinates exist only as WebGL in Plotly; some locked-down browsers turn it
     off. Asked once per page, with a context that is released at once. */
  function hasWebgl() {
    if (webgl === null) {
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("webgl") || canvas.getContext("experimental-webgl");
      webgl = !!context;
      var lose = context && context.getExtension("WEBGL_lose_context");
      if (lose) {
        lose.loseContext();
      }
    }
    return webgl;
  }

  /* Axis titles of parallel coordinates would run into each other on a phone: tilt them. */
  function fit(figure, element) {
    if (element.clientWidth < 640) {
      figure.data.forEach(function (trace) {
        if (trace.type === "parcoords") {
          trace.labelangle = -40;
        }
      });
    }
  }

  function needsWebgl(figure) {
    return figure.data.some(function (trace) {
      return WEBGL_TRACES.indexOf(trace.type) !== -1;
    });
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-figure"));
    if (!source) {
      return;
    }
    var fallback = element.querySelector(".chart-fallback");
    if (!window.Plotly) {
      fallback.textContent = "The chart could not be drawn: its script did not load.";
      return;
    }
    var figure = JSON.parse(source.textContent);
    if (needsWebgl(figure) && !hasWebgl()) {
      fallback.textContent =
        "This chart needs WebGL, which this browser has turned off; the table lists the same values.";
      return;
    }
    fit(figure, element);
    element.textContent = "";
    window.Plotly.newPlot(element, figure.data, figure.layout, figure.config);
  }

  document.querySelectorAll("[data-figure]").forEach(draw);
})();
