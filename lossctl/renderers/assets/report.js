/* lossctl HTML report: draws the curves embedded in #lossctl-data with uPlot.
   Per chart: raw curves (faint when smoothed), TensorBoard's debiased EMA, finding spans in
   their severity's colour with a numbered marker at each onset, non-finite points marked on
   top. Controls: smoothing slider, y scale (auto/linear/log), show/hide by legend click,
   drag to zoom, wheel to zoom, shift-drag (or middle-drag) to pan, double-click to reset.
   window.lossctlReport exposes the charts and what each drew (the browser tests read it). */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("lossctl-data").textContent);
  var TYPES = { f4: Float32Array, f8: Float64Array, i4: Int32Array, u1: Uint8Array, u2: Uint16Array, u4: Uint32Array };
  var state = { w: DATA.smoothing, mode: "auto" };
  var charts = [];
  var groups = {};
  var api = { charts: charts, state: state, ready: false, errors: [] };
  window.lossctlReport = api;

  function decode(p) {
    var bin = atob(p.b), n = bin.length, buf = new Uint8Array(n);
    for (var i = 0; i < n; i++) buf[i] = bin.charCodeAt(i);
    return new TYPES[p.t](buf.buffer);
  }
  /* Theme colours, read once per theme: getComputedStyle in a draw hook would force a style
     recalculation of the whole page for every plot. */
  var theme = {};
  function readTheme() {
    var st = getComputedStyle(document.documentElement);
    ["--bg", "--grid", "--muted", "--sev-error", "--sev-warning", "--sev-info"].concat(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(function (i) { return "--s" + i; })).forEach(function (k) {
      theme[k] = st.getPropertyValue(k).trim();
    });
  }
  function css(name) { return theme[name]; }
  function fmt(v) {
    if (v == null || !isFinite(v)) return v == null ? "–" : String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3).replace(/\.?0+e/, "e");
    return (+v.toPrecision(4)).toString();
  }
  function fmtStep(v) { return Math.round(v).toLocaleString("en-US"); }
  function withAlpha(color, a) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
    if (!m) return color;
    return "rgba(" + parseInt(m[1], 16) + "," + parseInt(m[2], 16) + "," + parseInt(m[3], 16) + "," + a + ")";
  }
  function lowerBound(arr, v) {
    var lo = 0, hi = arr.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] < v) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function nearest(arr, v) {
    var i = lowerBound(arr, v);
    if (i >= arr.length) return arr.length - 1;
    if (i > 0 && v - arr[i - 1] < arr[i] - v) return i - 1;
    return i;
  }

  /* One logical series: its raw points and the points its smoothing runs over. */
  function prepare(s) {
    var x = Float64Array.from(decode(s.x)), y = Float64Array.from(decode(s.y));
    var sx, sy, sn;
    if (s.sc) {
      var col = decode(s.sc), width = (s.hi - s.lo + 1) / s.cols;
      sx = new Float64Array(col.length);
      for (var i = 0; i < col.length; i++) sx[i] = s.lo + (col[i] + 0.5) * width;
      sy = Float64Array.from(decode(s.sy));
      sn = decode(s.sn);
    } else {
      var fx = [], fy = [];
      for (var j = 0; j < y.length; j++) if (isFinite(y[j])) { fx.push(x[j]); fy.push(y[j]); }
      sx = Float64Array.from(fx); sy = Float64Array.from(fy); sn = null;
    }
    var lo = Infinity, hi = -Infinity, nonpos = 0, fin = 0;
    for (var k = 0; k < y.length; k++) if (isFinite(y[k])) {
      fin++;
      if (y[k] <= 0) { nonpos++; continue; }
      if (y[k] < lo) lo = y[k]; if (y[k] > hi) hi = y[k];
    }
    return { spec: s, x: x, y: y, sx: sx, sy: sy, sn: sn, lo: lo, hi: hi, nonpos: nonpos, fin: fin,
             smooth: new Float64Array(sy.length) };
  }

  /* TensorBoard: last = last*w + (1-w)*v; debiased by 1 - w^n. A column of c points counts as
     c points of its mean: last = last*w^c + (1-w^c)*mean. */
  function smooth(p, w) {
    var last = 0, n = 0, out = p.smooth;
    for (var i = 0; i < p.sy.length; i++) {
      var c = p.sn ? p.sn[i] : 1;
      if (w <= 0) { out[i] = p.sy[i]; continue; }
      var wc = Math.pow(w, c);
      last = last * wc + (1 - wc) * p.sy[i];
      n += c;
      out[i] = last / (1 - Math.pow(w, n));
    }
  }

  function buildModel(c) {
    var series = c.spec.series.map(prepare);
    var all = [];
    series.forEach(function (p) { all.push(p.x, p.sx); });
    var total = all.reduce(function (a, b) { return a + b.length; }, 0), cat = new Float64Array(total), o = 0;
    all.forEach(function (a) { cat.set(a, o); o += a.length; });
    cat.sort();
    var X = [], prev = NaN;
    for (var i = 0; i < cat.length; i++) if (cat[i] !== prev) { X.push(cat[i]); prev = cat[i]; }
    X = Float64Array.from(X);
    series.forEach(function (p) {
      p.rawIdx = new Int32Array(p.x.length);
      for (var i = 0; i < p.x.length; i++) p.rawIdx[i] = lowerBound(X, p.x[i]);
      p.smIdx = new Int32Array(p.sx.length);
      for (var j = 0; j < p.sx.length; j++) p.smIdx[j] = lowerBound(X, p.sx[j]);
    });
    c.X = X;
    c.series = series;
  }

  /* On a log axis a value <= 0 cannot be drawn: it is left out (as TensorBoard does). */
  function aligned(c) {
    var data = [c.X];
    c.series.forEach(function (p) {
      smooth(p, state.w);
      var log = c.log[p.spec.scale || "y"], raw = new Array(c.X.length), sm = new Array(c.X.length);
      for (var i = 0; i < p.x.length; i++) raw[p.rawIdx[i]] = isFinite(p.y[i]) ? (log && p.y[i] <= 0 ? undefined : p.y[i]) : null;
      for (var j = 0; j < p.sx.length; j++) if (!(log && p.smooth[j] <= 0)) sm[p.smIdx[j]] = p.smooth[j];
      data.push(raw, sm);
    });
    return data;
  }

  function scaleLog(c, key) {
    if (state.mode === "linear") return false;
    var lo = Infinity, hi = -Infinity, nonpos = 0, fin = 0;
    c.series.forEach(function (p) {
      if ((p.spec.scale || "y") !== key) return;
      lo = Math.min(lo, p.lo); hi = Math.max(hi, p.hi); nonpos += p.nonpos; fin += p.fin;
    });
    if (!(lo > 0) || !isFinite(hi)) return false;  // log needs positive values
    // auto: as the terminal plot, log when the values span more than 30x (and hardly any is <= 0)
    return state.mode === "log" || (hi / lo > 30 && nonpos <= 0.01 * fin);
  }

  /* Log axes: grid lines at powers of ten (every few decades when many, with 2 and 5 when the
     axis spans few), not at every 1..9 multiple, which would stripe the plot. */
  function decades(u, ai, min, max) {
    var lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max)), span = hi - lo;
    var step = Math.max(1, Math.ceil(span / 6)), out = [];
    for (var e = lo; e <= hi; e += step) {
      [1, 2, 5].forEach(function (m) {
        var v = m * Math.pow(10, e);
        if ((m === 1 || span <= 2) && v >= min * 0.999 && v <= max * 1.001) out.push(v);
      });
    }
    return out;
  }

  function seriesColor(p) { return css("--s" + p.spec.color) || "#888888"; }

  function drawFindings(u, c) {
    var ctx = u.ctx, b = u.bbox, dpr = uPlot.pxRatio, drawn = c.drawn;
    drawn.spans = 0;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
    c.spec.findings.forEach(function (f) {
      if (f.start == null) return;
      var x0 = u.valToPos(f.start, "x", true), x1 = u.valToPos(f.end == null ? f.start : f.end, "x", true);
      ctx.fillStyle = withAlpha(css("--sev-" + f.severity), 0.16);
      ctx.fillRect(x0, b.top, Math.max(x1 - x0, 2 * dpr), b.height);
      drawn.spans++;
    });
    ctx.restore();
  }

  function drawMarks(u, c) {
    var ctx = u.ctx, b = u.bbox, dpr = uPlot.pxRatio, drawn = c.drawn;
    drawn.onsets = 0; drawn.nonfinite = 0;
    drawn.series = u.series.filter(function (s, i) { return i > 0 && i % 2 === 1 && s.show; }).length;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left, b.top - 12 * dpr, b.width, b.height + 12 * dpr); ctx.clip();
    c.spec.findings.forEach(function (f) {
      if (f.start == null) return;
      var x = u.valToPos(f.start, "x", true), col = css("--sev-" + f.severity);
      if (x < b.left - 1 || x > b.left + b.width + 1) return;
      ctx.strokeStyle = col; ctx.lineWidth = 1.5 * dpr; ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
      ctx.setLineDash([]);
      // the onset point on the finding's curve
      var p = c.series.filter(function (q) { return q.spec.label === f.metric; })[0];
      if (p && p.x.length) {
        var i = nearest(p.x, f.start), si = c.series.indexOf(p) * 2 + 1;
        if (isFinite(p.y[i]) && !(c.log[p.spec.scale || "y"] && p.y[i] <= 0) && u.series[si].show) {
          var y = u.valToPos(p.y[i], u.series[si].scale, true);
          ctx.fillStyle = col; ctx.strokeStyle = css("--bg");
          ctx.beginPath(); ctx.arc(x, y, 5 * dpr, 0, 2 * Math.PI); ctx.fill(); ctx.lineWidth = 1.5 * dpr; ctx.stroke();
        }
      }
      // its number, as in the list beside the plot
      ctx.fillStyle = col;
      ctx.beginPath(); ctx.arc(x, b.top + 9 * dpr, 8 * dpr, 0, 2 * Math.PI); ctx.fill();
      ctx.fillStyle = "#ffffff"; ctx.font = "bold " + 10 * dpr + "px sans-serif";
      ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText(String(f.n), x, b.top + 9.5 * dpr);
      drawn.onsets++;
    });
    c.series.forEach(function (p, k) {
      if (!u.series[2 * k + 1].show) return;
      (p.spec.bad || []).forEach(function (r) {
        var x0 = u.valToPos(r[0], "x", true), x1 = u.valToPos(r[1], "x", true);
        if (x1 < b.left - 6 || x0 > b.left + b.width + 6) return;
        ctx.fillStyle = css("--sev-error");
        ctx.fillRect(x0 - 1 * dpr, b.top + b.height - 6 * dpr, Math.max(x1 - x0, 0) + 2 * dpr, 6 * dpr);
        ctx.font = "bold " + 11 * dpr + "px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
        ctx.fillText("✖", x0, b.top + b.height - 7 * dpr);
        drawn.nonfinite++;
      });
    });
    ctx.restore();
    drawn.frames++;
  }

  function wheelAndPan(c) {
    return {
      hooks: {
        ready: function (u) {
          u.over.addEventListener("wheel", function (e) {
            e.preventDefault();
            var sx = u.scales.x, range = sx.max - sx.min, at = u.posToVal(e.offsetX, "x");
            var f = e.deltaY < 0 ? 0.8 : 1.25, lo = at - (at - sx.min) * f, hi = lo + range * f;
            var X = c.X, full0 = X[0], full1 = X[X.length - 1];
            if (hi - lo >= full1 - full0) { lo = full0; hi = full1; }
            u.setScale("x", { min: lo, max: hi });
          }, { passive: false });
        }
      }
    };
  }

  function panBind(c) {
    return function (u, targ, handler) {
      return function (e) {
        if (!(e.shiftKey || e.button === 1)) return handler(e);
        e.preventDefault();
        var x0 = e.clientX, s0 = u.scales.x.min, s1 = u.scales.x.max, perPx = (s1 - s0) / u.bbox.width * uPlot.pxRatio;
        function move(ev) { var d = (ev.clientX - x0) * perPx; u.setScale("x", { min: s0 - d, max: s1 - d }); }
        function up() { document.removeEventListener("mousemove", move); document.removeEventListener("mouseup", up); }
        document.addEventListener("mousemove", move); document.addEventListener("mouseup", up);
        return null;
      };
    };
  }

  function legendRow(c) {
    var el = document.getElementById(c.spec.id + "-legend");
    el.textContent = "";
    var step = document.createElement("span");
    step.className = "lg-step";
    el.appendChild(step);
    c.legend = { step: step, items: [] };
    c.series.forEach(function (p, k) {
      var item = document.createElement("button");
      item.type = "button";
      item.className = "lg-item" + (c.hidden[k] ? " off" : "");
      item.setAttribute("aria-pressed", c.hidden[k] ? "false" : "true");
      item.title = "show or hide " + p.spec.label;
      var sw = document.createElement("span");
      sw.className = "lg-swatch"; sw.style.background = seriesColor(p);
      var name = document.createElement("span");
      name.className = "lg-name"; name.textContent = p.spec.label + (p.spec.note ? " (" + p.spec.note + ")" : "");
      var val = document.createElement("span");
      val.className = "lg-val";
      item.appendChild(sw); item.appendChild(name); item.appendChild(val);
      item.addEventListener("click", function () {
        c.hidden[k] = !c.hidden[k];
        item.classList.toggle("off", c.hidden[k]);
        item.setAttribute("aria-pressed", c.hidden[k] ? "false" : "true");
        c.u.setSeries(2 * k + 1, { show: !c.hidden[k] });
        c.u.setSeries(2 * k + 2, { show: !c.hidden[k] && state.w > 0 });
      });
      el.appendChild(item);
      c.legend.items.push(val);
    });
  }

  function updateLegend(u, c) {
    var idx = u.cursor.idx;
    if (idx == null) { c.legend.step.textContent = c.spec.axis + " –"; c.legend.items.forEach(function (v) { v.textContent = ""; }); return; }
    var xv = c.X[idx];
    c.legend.step.textContent = c.spec.axis + " " + fmtStep(xv);
    c.series.forEach(function (p, k) {
      if (!p.x.length) return;
      var i = nearest(p.x, xv), txt = fmt(p.y[i]);
      if (state.w > 0 && p.sx.length) txt = fmt(p.smooth[nearest(p.sx, xv)]) + " (raw " + txt + " at " + fmtStep(p.x[i]) + ")";
      else if (p.x[i] !== xv) txt += " at " + fmtStep(p.x[i]);
      c.legend.items[k].textContent = txt;
    });
  }

  function create(c, keepX, width) {
    var el = document.getElementById(c.spec.id);
    var grid = css("--grid"), fg = css("--muted");
    var scales = { x: { time: false } };
    var axes = [{ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, label: c.spec.axis, labelSize: 16, size: 36 }];
    c.spec.scales.forEach(function (sc, i) {
      var log = scaleLog(c, sc.key);
      scales[sc.key] = log ? { distr: 3, log: 10 } : { auto: true };
      axes.push({ scale: sc.key, side: sc.side === "right" ? 1 : 3, stroke: fg, label: sc.label + (log ? " (log)" : ""),
                  labelSize: 16, size: 60, grid: { show: i === 0, stroke: grid, width: 1 }, ticks: { stroke: grid },
                  values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : fmt(v); }); },
                  splits: log ? decades : undefined, filter: log ? function (u, splits) { return splits; } : undefined });
      c.log[sc.key] = log;
    });
    var series = [{ label: c.spec.axis }];
    c.series.forEach(function (p, k) {
      var color = seriesColor(p), sparse = p.x.length < 60;
      series.push({ label: p.spec.label, scale: p.spec.scale || "y", width: 1.25,
                    stroke: function () { return state.w > 0 ? withAlpha(color, 0.3) : color; },
                    show: !c.hidden[k], spanGaps: false,
                    points: { show: sparse, size: 5, stroke: color, fill: color } });
      series.push({ label: p.spec.label + " (smoothed)", scale: p.spec.scale || "y", width: 2, stroke: color,
                    show: !c.hidden[k] && state.w > 0, spanGaps: true, points: { show: false } });
    });
    var opts = {
      width: Math.max(300, width || el.clientWidth), height: c.spec.height,
      scales: scales, axes: axes, series: series, legend: { show: false },
      cursor: { sync: { key: c.spec.sync }, drag: { x: true, y: false }, bind: { mousedown: panBind(c) },
                points: { size: 6 } },
      plugins: [wheelAndPan(c)],
      hooks: {
        drawClear: [function (u) { drawFindings(u, c); }],
        draw: [function (u) { drawMarks(u, c); }],
        setCursor: [function (u) { updateLegend(u, c); }],
        setScale: [function (u, key) {
          if (key !== "x" || c.syncing) return;
          (groups[c.spec.sync] || []).forEach(function (o) {
            if (o === c || !o.u) return;
            o.syncing = true;
            o.u.setScale("x", { min: u.scales.x.min, max: u.scales.x.max });
            o.syncing = false;
          });
        }]
      }
    };
    if (c.u) c.u.destroy();
    el.textContent = "";
    c.drawn = { spans: 0, onsets: 0, nonfinite: 0, series: 0, frames: 0 };
    c.u = new uPlot(opts, aligned(c), el);
    if (keepX) c.u.setScale("x", keepX);
    legendRow(c);
    updateLegend(c.u, c);
  }

  /* Widths are read in one pass before any plot is made: reading one after inserting another
     would lay the page out again each time. */
  function widths() {
    return charts.map(function (c) { return document.getElementById(c.spec.id).clientWidth; });
  }

  function rebuild() {
    readTheme();
    var w = widths();
    charts.forEach(function (c, i) {
      if (c.u) create(c, { min: c.u.scales.x.min, max: c.u.scales.x.max }, w[i]);
    });
  }

  /* Plots are made when they come near the screen (a page of 100 runs opens as fast as one of
     three); drawAll() makes the rest at once (before printing, and for the tests). */
  var observer = null;
  function drawAll() {
    var w = widths(), n = 0;
    charts.forEach(function (c, i) { if (!c.u) { create(c, null, w[i]); n++; } });
    if (observer) observer.disconnect();
    return n;
  }
  api.drawAll = drawAll;
  function lazy() {
    if (!("IntersectionObserver" in window)) { drawAll(); return; }
    var byId = {};
    charts.forEach(function (c) { byId[c.spec.id] = c; });
    observer = new IntersectionObserver(function (entries) {
      var todo = entries.filter(function (e) { return e.isIntersecting && !byId[e.target.id].u; });
      var w = todo.map(function (e) { return e.target.clientWidth; });
      todo.forEach(function (e, i) { create(byId[e.target.id], null, w[i]); observer.unobserve(e.target); });
    }, { rootMargin: "800px 0px" });
    var near = window.innerHeight + 800, w = widths();
    var tops = charts.map(function (c) { return document.getElementById(c.spec.id).getBoundingClientRect().top; });
    charts.forEach(function (c, i) {
      if (tops[i] < near) create(c, null, w[i]);
      else observer.observe(document.getElementById(c.spec.id));
    });
    window.addEventListener("beforeprint", drawAll);
  }

  function setSmoothing(w) {
    var was = state.w;
    state.w = w;
    document.getElementById("smoothing-value").textContent = w.toFixed(2);
    if ((was > 0) !== (w > 0)) { rebuild(); return; }
    charts.forEach(function (c) {
      if (c.u) { c.u.setData(aligned(c), false); c.u.redraw(true, false); updateLegend(c.u, c); }
    });
  }

  function controls() {
    var slider = document.getElementById("smoothing");
    slider.value = state.w;
    slider.addEventListener("input", function () { setSmoothing(parseFloat(slider.value)); });
    document.getElementById("smoothing-value").textContent = state.w.toFixed(2);
    var mode = document.getElementById("yscale");
    mode.addEventListener("change", function () { state.mode = mode.value; rebuild(); });
    var resize;
    window.addEventListener("resize", function () {
      clearTimeout(resize);
      resize = setTimeout(function () {
        var w = widths();
        charts.forEach(function (c, i) { if (c.u) c.u.setSize({ width: Math.max(300, w[i]), height: c.spec.height }); });
      }, 100);
    });
    if (window.matchMedia) {
      var mq = window.matchMedia("(prefers-color-scheme: dark)");
      (mq.addEventListener ? mq.addEventListener.bind(mq, "change") : mq.addListener.bind(mq))(rebuild);
    }
  }

  /* The summary table: click a heading to sort, type to filter (rows and run sections). */
  function table() {
    var tbl = document.getElementById("runs");
    if (!tbl) return;
    var body = tbl.tBodies[0];
    Array.prototype.forEach.call(tbl.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(tbl.tHead.rows[0].cells, function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
          var nx = parseFloat(x), ny = parseFloat(y);
          if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) && isFinite(x) && isFinite(y)) return dir * (nx - ny);
          return dir * String(x).localeCompare(String(y), undefined, { numeric: true });
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    var filter = document.getElementById("filter");
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase(), shown = 0;
      Array.prototype.forEach.call(body.rows, function (r) {
        var hit = r.textContent.toLowerCase().indexOf(q) >= 0;
        r.hidden = !hit; shown += hit;
        var sec = document.getElementById(r.getAttribute("data-run"));
        if (sec) sec.hidden = !hit;
      });
      document.getElementById("filter-count").textContent = shown + " of " + body.rows.length + " runs";
    });
  }

  try {
    var t0 = performance.now();
    controls();
    table();
    DATA.charts.forEach(function (spec) {
      var c = { spec: spec, hidden: spec.series.map(function () { return false; }), log: {} };
      buildModel(c);
      charts.push(c);
      (groups[spec.sync] = groups[spec.sync] || []).push(c);
    });
    var t1 = performance.now();
    readTheme();
    lazy();
    api.timing = { start: t0, model: t1 - t0, create: performance.now() - t1 };
    api.ready = true;
  } catch (e) {
    api.errors.push(String(e && e.stack || e));
    throw e;
  }
})();
