/* mscsim report: draws the embedded plotly figures and drives the body map (time slider,
 * play, viable/label mode). Vanilla JavaScript, no network. The data are in the
 * <script type="application/json" id="mscsim-data"> element written by mscsim.report. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("mscsim-data").textContent);
  var SCALE = DATA.scale;

  /* ---------------------------------------------------------------- plots */
  var PLOT_CONFIG = { responsive: true, displaylogo: false,
                      modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function drawFigures() {
    var figs = DATA.figures || {};
    Object.keys(figs).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el || typeof Plotly === "undefined") { return; }
      var fig = figs[id];
      Plotly.newPlot(el, fig.data, fig.layout, PLOT_CONFIG);
    });
  }

  /* ---------------------------------------------------------- colour scale */
  function hexToRgb(h) {
    return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  }
  var STOPS = SCALE.stops.map(function (s) { return [s[0], hexToRgb(s[1])]; });

  function toHex(rgb) {
    return "#" + rgb.map(function (v) {
      var s = Math.round(v).toString(16);
      return s.length < 2 ? "0" + s : s;
    }).join("");
  }

  /* the colour of `pct` percent of dose (same rule as mscsim.report.bodymap.color_at) */
  function colorFor(pct) {
    if (!(pct > 0)) { return SCALE.none; }
    var x = (Math.log10(pct) - SCALE.log_min) / (SCALE.log_max - SCALE.log_min);
    x = Math.min(Math.max(x, 0), 1);
    for (var i = 1; i < STOPS.length; i++) {
      var p0 = STOPS[i - 1][0], p1 = STOPS[i][0];
      if (x <= p1) {
        var f = p1 > p0 ? (x - p0) / (p1 - p0) : 0;
        var a = STOPS[i - 1][1], b = STOPS[i][1];
        return toHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
      }
    }
    return toHex(STOPS[STOPS.length - 1][1]);
  }

  /* ---------------------------------------------------------- formatting */
  function fmtPct(v) {
    if (v === null || v === undefined || isNaN(v)) { return "-"; }
    if (v === 0) { return "0 %"; }
    if (v < 0.001) { return "<0.001 %"; }
    var s = v >= 100 ? v.toFixed(0) : Number(v.toPrecision(v >= 1 ? 3 : 2)).toString();
    return s + " %";
  }
  function fmtCells(v) {
    if (v === null || v === undefined || isNaN(v)) { return "-"; }
    if (v < 1) { return "0"; }
    if (v < 1e4) { return Math.round(v).toString(); }
    var e = Math.floor(Math.log10(v));
    return (v / Math.pow(10, e)).toFixed(1) + "e" + e;
  }
  function fmtTime(t) {
    if (t < 1 / 24 - 1e-9) { return Math.round(t * 1440) + " min"; }
    if (t < 2 - 1e-9) { var h = t * 24; return (h < 10 ? h.toFixed(1).replace(/\.0$/, "") : Math.round(h)) + " h"; }
    return "day " + (t < 10 ? t.toFixed(1).replace(/\.0$/, "") : Math.round(t));
  }

  /* ------------------------------------------------------------- body map */
  var BM = DATA.bodymap;
  var state = { frame: 0, mode: "viable", timer: null };
  var pendingLine = null;

  function sinceDose(t) {
    var doses = BM.doses || [];
    var k = -1;
    for (var i = 0; i < doses.length; i++) { if (doses[i] <= t + 1e-9) { k = i; } }
    if (k < 0) { return doses.length ? "before the first dose" : ""; }
    var dt = t - doses[k];
    var which = doses.length > 1 ? "dose " + (k + 1) : "the dose";
    return "(" + (dt < 1e-9 ? "at " + which : fmtTime(dt).replace(/^day /, "") + (dt >= 2 ? " d" : "") +
      " after " + which) + ")";
  }

  function setFrame(i) {
    if (!BM) { return; }
    var n = BM.times.length;
    i = Math.max(0, Math.min(n - 1, Math.round(i)));
    state.frame = i;
    var t = BM.times[i];
    var slider = document.getElementById("bm-slider");
    if (slider && Number(slider.value) !== i) { slider.value = String(i); }
    var svg = document.getElementById("bodymap-svg");
    svg.setAttribute("data-frame", String(i));
    document.getElementById("bm-time").textContent = fmtTime(t);
    document.getElementById("bm-since").textContent = sinceDose(t);
    var groups = svg.querySelectorAll("g.organ[data-organ]");
    for (var g = 0; g < groups.length; g++) {
      var el = groups[g];
      var series = BM.organs[el.getAttribute("data-organ")];
      var c = series ? colorFor(series[state.mode][i]) : SCALE.none;
      if (el.getAttribute("data-paint") === "stroke") { el.style.stroke = c; } else { el.style.fill = c; }
    }
    Object.keys(BM.organs).forEach(function (key) {
      var s = BM.organs[key];
      var v = s[state.mode][i];
      var tsp = svg.querySelector('tspan[data-value="' + key + '"]');
      if (tsp) { tsp.textContent = fmtPct(v); }
      var row = document.querySelector('#bm-table tr[data-row="' + key + '"]');
      if (row) {
        row.querySelector('[data-cell="viable"]').textContent = fmtPct(s.viable[i]);
        row.querySelector('[data-cell="label"]').textContent = fmtPct(s.label[i]);
        row.querySelector('[data-cell="cells"]').textContent = s.cells ? fmtCells(s.cells[i]) : "-";
        row.querySelector(".swatch").style.background = colorFor(v);
      }
    });
    moveTimeLine(t > 0 ? t : (n > 1 ? BM.times[1] : t));
  }

  /* the dotted line on the cells-per-organ plot follows the slider */
  function moveTimeLine(t) {
    var el = document.getElementById("fig-cells");
    if (!el || !el.layout || !el.layout.shapes || !el.layout.shapes.length || typeof Plotly === "undefined") { return; }
    if (pendingLine !== null) { pendingLine = t; return; }
    pendingLine = t;
    window.requestAnimationFrame(function () {
      var x = pendingLine;
      pendingLine = null;
      Plotly.relayout(el, { "shapes[0].x0": x, "shapes[0].x1": x });
    });
  }

  function setMode(mode) {
    state.mode = mode === "label" ? "label" : "viable";
    var title = document.getElementById("bm-cbtitle");
    if (title) {
      title.textContent = state.mode === "label"
        ? "MSC label (viable + debris), % of cells given (log scale)"
        : "viable MSCs, % of cells given (log scale)";
    }
    var el = document.getElementById("fig-cells");
    if (el && el.data && typeof Plotly !== "undefined") {
      Plotly.restyle(el, { visible: el.data.map(function (tr) { return tr.meta === state.mode; }) });
      Plotly.relayout(el, { "title.text": state.mode === "label"
        ? "MSC label per organ over time (viable + debris, % of cells given)"
        : "MSCs per organ over time (% of cells given)" });
    }
    setFrame(state.frame);
  }

  function stop() {
    if (state.timer) { window.clearInterval(state.timer); state.timer = null; }
    var b = document.getElementById("bm-play");
    if (b) { b.textContent = "\u25b6 play"; }
  }

  function play() {
    if (state.timer) { stop(); return; }
    if (state.frame >= BM.times.length - 1) { setFrame(0); }
    document.getElementById("bm-play").textContent = "\u275a\u275a pause";
    state.timer = window.setInterval(function () {
      if (state.frame >= BM.times.length - 1) { stop(); return; }
      setFrame(state.frame + 1);
    }, 90);
  }

  function initBodyMap() {
    if (!BM || !document.getElementById("bodymap-svg")) { return; }
    var slider = document.getElementById("bm-slider");
    slider.addEventListener("input", function () { stop(); setFrame(Number(slider.value)); });
    slider.addEventListener("change", function () { setFrame(Number(slider.value)); });
    document.getElementById("bm-play").addEventListener("click", play);
    var quick = document.getElementById("bm-quick");
    (BM.quick || []).forEach(function (q) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = q.label;
      b.title = fmtTime(BM.times[q.index]);
      b.addEventListener("click", function () { stop(); setFrame(q.index); });
      quick.appendChild(b);
    });
    var radios = document.querySelectorAll('input[name="bm-mode"]');
    for (var r = 0; r < radios.length; r++) {
      radios[r].addEventListener("change", function (ev) { setMode(ev.target.value); });
    }
    /* hovering an organ highlights its table row, and the other way round */
    var svg = document.getElementById("bodymap-svg");
    function highlight(key, on) {
      var row = document.querySelector('#bm-table tr[data-row="' + key + '"]');
      var grp = svg.querySelector('g.organ[data-organ="' + key + '"]');
      if (row) { row.classList.toggle("active", on); }
      if (grp) { grp.classList.toggle("active", on); }
    }
    Array.prototype.forEach.call(svg.querySelectorAll("g.organ[data-organ]"), function (g) {
      var key = g.getAttribute("data-organ");
      g.addEventListener("mouseenter", function () { highlight(key, true); });
      g.addEventListener("mouseleave", function () { highlight(key, false); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("#bm-table tr[data-row]"), function (row) {
      var key = row.getAttribute("data-row");
      row.addEventListener("mouseenter", function () { highlight(key, true); });
      row.addEventListener("mouseleave", function () { highlight(key, false); });
    });
    setFrame(BM.initial || 0);
  }

  drawFigures();
  initBodyMap();
  window.mscsimReport = { colorFor: colorFor, setFrame: setFrame, setMode: setMode, data: DATA };
})();
