// Draws every chart whose figure the page carries as JSON. Pages work without this script:
// each chart has a text alternative and a data table.
"use strict";

const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage"] };

function drawCharts(root) {
  if (typeof Plotly === "undefined") return;
  root.querySelectorAll("[data-figure]").forEach((element) => {
    const source = document.getElementById(element.dataset.figure);
    if (!source || element.dataset.drawn) return;
    const figure = JSON.parse(source.textContent);
    Plotly.newPlot(element, figure.data || [], figure.layout || {}, PLOT_CONFIG);
    element.dataset.drawn = "1";
  });
}

window.bmtc = { drawCharts, plotConfig: PLOT_CONFIG };
document.addEventListener("DOMContentLoaded", () => drawCharts(document));
