// The facility map: draws the figure the page carries, asks /map/points for the facilities
// around the view after each zoom or pan, and shows a facility's card in the side panel.
// Without this script the page still lists every facility with a link to its card.
"use strict";

(function () {
  const DEBOUNCE_MS = 150;
  // Groups shrink as the reader zooms; a click on one zooms at least this much.
  const MIN_ZOOM_FACTOR = 2;
  const MIN_VIEW_KM = 2;
  // On a phone plotly's legend would cover the map; the key under the map says the same.
  const NARROW_PX = 640;

  // plotly's hover labels read a little HTML; names from the atlas must stay text.
  function escapeText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function label(value) {
    return String(value).replace(/_/g, " ");
  }

  function clusterSize(count) {
    return Math.round(Math.min(44, 18 + 5 * Math.log2(count)) * 10) / 10;
  }

  class AtlasMap {
    constructor(element) {
      this.element = element;
      this.figure = JSON.parse(document.getElementById(element.dataset.mapFigure).textContent);
      this.points = JSON.parse(document.getElementById(element.dataset.mapPoints).textContent);
      this.panel = document.getElementById("map-card");
      this.status = document.getElementById("map-status");
      this.symbols = (this.figure.layout.meta || {}).stage_symbols || {};
      this.timer = null;
      this.request = null;
    }

    draw() {
      const config = Object.assign({}, (window.bmtc && window.bmtc.plotConfig) || {},
        { scrollZoom: true });
      const layout = Object.assign({}, this.figure.layout);
      if (this.element.clientWidth < NARROW_PX) layout.showlegend = false;
      return Plotly.newPlot(this.element, this.figure.data, layout, config)
        .then(() => {
          this.element.on("plotly_relayout", (event) => this.viewChanged(event));
          this.element.on("plotly_click", (event) => this.clicked(event));
          // For tests and benchmarks: the map answers input from here on.
          this.element.dataset.mapReady = "1";
        });
    }

    viewChanged(event) {
      const moved = Object.keys(event || {}).some(
        (key) => key.startsWith("xaxis") || key.startsWith("yaxis") || key === "autosize");
      if (!moved) return;
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.fetchPoints(), DEBOUNCE_MS);
    }

    currentView() {
      const xr = this.element.layout.xaxis.range;
      const yr = this.element.layout.yaxis.range;
      return { x0: xr[0], x1: xr[1], y0: yr[0], y1: yr[1] };
    }

    fetchPoints() {
      const params = new URLSearchParams();
      Object.entries(this.points.filter || {}).forEach(([key, value]) => {
        if (value) params.set(key, value);
      });
      Object.entries(this.currentView()).forEach(([key, value]) => {
        params.set(key, Number(value).toFixed(1));
      });
      if (this.request) this.request.abort();
      const request = new AbortController();
      this.request = request;
      fetch(`${this.element.dataset.pointsUrl}?${params}`, {
        signal: request.signal, headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then((response) => {
          if (!response.ok) throw new Error(`the server answered ${response.status}`);
          return response.json();
        })
        .then((points) => {
          this.points = points;
          this.status.textContent = "";
          return this.redraw();
        })
        .catch((error) => {
          if (error.name === "AbortError") return;
          this.status.textContent = `The map could not be updated (${error.message}).`;
        });
    }

    redraw() {
      const data = this.element.data.map((trace) => {
        if (trace.meta === "clusters") return this.clusterTrace(trace);
        if (typeof trace.meta === "string" && trace.meta.startsWith("status:")) {
          return this.statusTrace(trace, trace.meta.slice("status:".length));
        }
        return trace;
      });
      this.element.setAttribute("aria-label", this.points.label);
      return Plotly.react(this.element, data, this.element.layout);
    }

    clusterTrace(trace) {
      const clusters = this.points.clusters;
      return Object.assign({}, trace, {
        x: clusters.map((c) => c.x),
        y: clusters.map((c) => c.y),
        text: clusters.map((c) => String(c.count)),
        customdata: clusters.map((c, i) => [i, c.summary]),
        marker: Object.assign({}, trace.marker, { size: clusters.map((c) => clusterSize(c.count)) }),
      });
    }

    statusTrace(trace, status) {
      const shown = this.points.singles.filter((f) => f.status === status);
      return Object.assign({}, trace, {
        x: shown.map((f) => f.x),
        y: shown.map((f) => f.y),
        text: shown.map((f) => escapeText(f.name)),
        customdata: shown.map((f) => [f.id, label(f.stage)]),
        marker: Object.assign({}, trace.marker, {
          symbol: shown.map((f) => this.symbols[f.stage] || "circle"),
        }),
      });
    }

    clicked(event) {
      const point = event && event.points && event.points[0];
      if (!point || !point.customdata) return;
      if (point.data.meta === "clusters") {
        const cluster = this.points.clusters[point.customdata[0]];
        if (!cluster) return;
        if (cluster.members) this.listMembers(cluster);
        else this.zoomInto(cluster);
        return;
      }
      this.loadCard(point.customdata[0]);
    }

    zoomInto(cluster) {
      const view = this.currentView();
      const width = Math.abs(view.x1 - view.x0);
      const aspect = Math.abs(view.y1 - view.y0) / width;
      const [bx0, bx1, by0, by1] = cluster.bounds;
      if (width <= MIN_VIEW_KM) return;
      const fit = Math.max((bx1 - bx0) * 1.6, ((by1 - by0) * 1.6) / aspect);
      const wanted = Math.max(MIN_VIEW_KM, Math.min(fit, width / MIN_ZOOM_FACTOR));
      const cx = (bx0 + bx1) / 2;
      const cy = (by0 + by1) / 2;
      Plotly.relayout(this.element, {
        "xaxis.range": [cx - wanted / 2, cx + wanted / 2],
        "yaxis.range": [cy - (wanted * aspect) / 2, cy + (wanted * aspect) / 2],
      });
    }

    // Facilities recorded at one spot cannot be parted by zooming: list them instead.
    listMembers(cluster) {
      const heading = document.createElement("h2");
      heading.textContent = `${cluster.count} facilities recorded at this place`;
      const list = document.createElement("ul");
      list.className = "members";
      cluster.members.forEach((member) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = this.cardPage(member.id);
        link.textContent = member.name;
        link.addEventListener("click", (event) => {
          event.preventDefault();
          this.loadCard(member.id);
        });
        item.append(link, ` (${label(member.stage)}, ${label(member.status)})`);
        list.append(item);
      });
      this.panel.replaceChildren(heading, list);
      this.panel.focus();
    }

    cardPage(id) {
      return this.element.dataset.cardUrl + encodeURIComponent(id);
    }

    loadCard(id) {
      this.panel.setAttribute("aria-busy", "true");
      delete this.panel.dataset.cardLoaded;
      fetch(`${this.cardPage(id)}/card`, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then((response) => {
          if (!response.ok) throw new Error(`the server answered ${response.status}`);
          return response.text();
        })
        .then((html) => {
          // The fragment comes from this site's own card template, escaped on the server.
          this.panel.innerHTML = html;
          this.panel.dataset.cardLoaded = id;
        })
        .catch((error) => {
          const message = document.createElement("p");
          message.className = "error";
          message.textContent = `The facility card could not be loaded (${error.message}).`;
          this.panel.replaceChildren(message);
        })
        .finally(() => {
          this.panel.removeAttribute("aria-busy");
          this.panel.focus();
        });
    }
  }

  function start() {
    const element = document.getElementById("atlas-map");
    if (!element || typeof Plotly === "undefined") return;
    const map = new AtlasMap(element);
    map.draw();
    window.bmtc = Object.assign(window.bmtc || {}, { map });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
