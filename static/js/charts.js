/* Draw every Plotly figure of the page from the JSON the server embedded beside it.

   plotly.js is large, so it is fetched only when the page holds a figure: the script
   element that loads this file names it in its data-plotly attribute. */
(function () {
  "use strict";

  var WEBGL_TRACES = ["parcoords"];
  var webgl = null;
  var script = document.currentScript;

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

  /* A touch screen has no hover to reveal the mode bar, which then covers the chart. */
  function touchScreen() {
    return window.matchMedia("(hover: none), (pointer: coarse)").matches;
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  /* Merges ``source`` into ``target``, objects key by key, anything else replaced. */
  function merge(target, source) {
    Object.keys(source).forEach(function (key) {
      if (isObject(source[key]) && isObject(target[key])) {
        merge(target[key], source[key]);
      } else {
        target[key] = source[key];
      }
    });
  }

  /* A figure drawn narrower than its ``narrow.below`` pixels (a phone) takes the changes
     its builder made for that width: wrapped labels, more height, shorter text. Axis
     titles of parallel coordinates would run into each other on a phone: tilt them. */
  function fit(figure, element) {
    var narrow = figure.narrow;
    if (narrow && element.clientWidth < narrow.below) {
      merge(figure.layout, narrow.layout);
      narrow.data.forEach(function (changes, index) {
        if (figure.data[index]) {
          merge(figure.data[index], changes);
        }
      });
    }
    if (element.clientWidth < 640) {
      figure.data.forEach(function (trace) {
        if (trace.type === "parcoords") {
          trace.labelangle = -40;
        }
      });
    }
    if (touchScreen()) {
      figure.config.displayModeBar = false;
    }
  }

  function needsWebgl(figure) {
    return figure.data.some(function (trace) {
      return WEBGL_TRACES.indexOf(trace.type) !== -1;
    });
  }

  function say(element, text) {
    var fallback = element.querySelector(".chart-fallback");
    if (fallback) {
      fallback.textContent = text;
    }
  }

  /* Draws ``figure`` into ``element``, replacing what it held (a fallback or a chart). */
  function draw(element, figure) {
    if (needsWebgl(figure) && !hasWebgl()) {
      say(element,
        "This chart needs WebGL, which this browser has turned off; the table lists the same values.");
      return;
    }
    fit(figure, element);
    if (!element.classList.contains("js-plotly-plot")) {
      element.textContent = "";
    }
    window.Plotly.react(element, figure.data, figure.layout, figure.config).then(function () {
      describe(element);
    });
  }

  /* The chart is one image to assistive technology, named by its summary (the table or
     list beside it holds the values); the mode bar stays apart, a toolbar of buttons. */
  function describe(element) {
    element.querySelectorAll("svg.main-svg").forEach(function (svg, index) {
      if (index === 0) {
        svg.setAttribute("role", "img");
        svg.setAttribute("aria-label", element.getAttribute("data-summary") || "Chart");
      } else {
        svg.setAttribute("aria-hidden", "true");
      }
    });
  }

  function drawEmbedded(element) {
    var source = document.getElementById(element.getAttribute("data-figure"));
    if (source) {
      draw(element, JSON.parse(source.textContent));
    }
  }

  var elements = document.querySelectorAll("[data-figure]");
  if (!elements.length) {
    return;
  }
  window.mlprojectsCharts = { draw: draw };
  var plotly = document.createElement("script");
  plotly.src = script.getAttribute("data-plotly");
  plotly.onload = function () {
    elements.forEach(drawEmbedded);
    document.dispatchEvent(new CustomEvent("charts:ready"));
  };
  plotly.onerror = function () {
    elements.forEach(function (element) {
      say(element, "The chart could not be drawn: its script did not load.");
    });
  };
  document.head.appendChild(plotly);
})();
