/* Draw every Plotly figure of the page from the JSON the server embedded beside it. */
(function () {
  "use strict";

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-figure"));
    if (!source) {
      return;
    }
    if (!window.Plotly) {
      element.querySelector(".chart-fallback").textContent =
        "The chart could not be drawn: its script did not load.";
      return;
    }
    var figure = JSON.parse(source.textContent);
    element.textContent = "";
    window.Plotly.newPlot(element, figure.data, figure.layout, figure.config);
  }

  document.querySelectorAll("[data-figure]").forEach(draw);
})();
