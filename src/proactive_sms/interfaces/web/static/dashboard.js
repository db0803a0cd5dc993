// The dashboard's chart: texts sent and delivered per minute over the last hour (uPlot). The
// figures come with every tick of the live feed, in #chart-data's data-chart attribute (JSON,
// never run as code), so the chart itself lives outside the part the feed replaces.
(function () {
  "use strict";
  var plot = null;

  function data() {
    var holder = document.getElementById("chart-data");
    if (!holder) { return null; }
    try { return JSON.parse(holder.getAttribute("data-chart")); } catch (e) { return null; }
  }

  function draw() {
    var figures = data();
    var target = document.getElementById("chart");
    if (!figures || !target || typeof uPlot === "undefined") { return; }
    var series = [figures.minutes, figures.sent, figures.delivered];
    if (plot) { plot.setData(series); return; }
    plot = new uPlot({
      width: Math.max(300, target.clientWidth), height: 220,
      scales: { x: { time: true } },
      series: [
        {},
        { label: "Sent", stroke: "#1f6feb", width: 2, fill: "rgba(31,111,235,0.08)" },
        { label: "Delivered", stroke: "#1a7f37", width: 2 }
      ],
      axes: [{}, { label: "texts / minute" }]
    }, series, target);
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(300, target.clientWidth), height: 220 });
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "live") { draw(); }
  });
  document.addEventListener("htmx:sseOpen", function () {
    var dot = document.getElementById("live-state");
    if (dot) { dot.classList.add("on"); }
  });
  document.addEventListener("htmx:sseError", function () {
    var dot = document.getElementById("live-state");
    if (dot) { dot.classList.remove("on"); }
  });
})();
