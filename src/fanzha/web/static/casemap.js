// Fanzha case map: a choropleth of the areas with imported boundaries and bubbles at the centroids of the others,
// drawn with the ECharts served by the platform. Used by the map page and the wall screen (window.FanzhaMap).
(function () {
  var LABELS = { cases: "立案数（起）", loss: "损失（万元）", solved: "破案数（起）", suspects: "抓获人数（人）",
                 per_10k: "万人发案率" };

  function value(a, metric) {
    if (metric === "loss") { return a.loss_wan; }
    if (metric === "per_10k") { return a.per_10k === null ? 0 : a.per_10k; }
    if (metric === "solved" || metric === "suspects") { return a[metric]; }
    return a.cases;
  }

  // Labels contrast with what they sit on: each area's label is dark or white after the luminance of the colour the
  // visual map gives it (the same ramp, linear from 0 to the largest value), with a thin halo of the other kind.
  var RAMP = ["#fff1ec", "#f4a582", "#c00000"];
  // Black rather than a soft dark grey: with pure black and white one of the two reaches 4.5:1 on any colour.
  var INK = { dark: "#000000", light: "#ffffff" };
  var HALO = { dark: "rgba(255, 255, 255, 0.7)", light: "rgba(0, 0, 0, 0.55)" };

  function rgb(hex) { return [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); }); }

  function fill(v, max) {
    var t = Math.max(0, Math.min(1, (v || 0) / max)) * (RAMP.length - 1);
    var i = Math.min(Math.floor(t), RAMP.length - 2), f = t - i;
    var a = rgb(RAMP[i]), b = rgb(RAMP[i + 1]);
    return [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); });
  }

  function luminance(c) {  // WCAG 2 relative luminance of an [r, g, b] colour
    var l = c.map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }

  function contrast(a, b) { return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); }

  function ink(c) {  // "dark" or "light", whichever contrasts more with the colour c
    var l = luminance(c);
    return contrast(l, luminance(rgb(INK.dark))) >= contrast(l, 1) ? "dark" : "light";
  }

  function labelOn(c, fontSize) {
    var kind = ink(c);
    return { show: true, color: INK[kind], textBorderColor: HALO[kind], textBorderWidth: 2, fontSize: fontSize };
  }

  function bounds(payload) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    function add(x, y) { b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y); }
    function walk(c) { if (typeof c[0] === "number") { add(c[0], c[1]); } else { c.forEach(walk); } }
    payload.geojson.features.forEach(function (f) { walk(f.geometry.coordinates); });
    payload.areas.forEach(function (a) { if (a.lon !== null) { add(a.lon, a.lat); } });
    var padX = (b[2] - b[0]) * 0.06 || 0.05, padY = (b[3] - b[1]) * 0.06 || 0.05;
    return [[b[0] - padX, b[3] + padY], [b[2] + padX, b[1] - padY]];
  }

  function draw(el, payload, metric, opts) {
    opts = opts || {};
    var text = opts.dark ? "#e8eef7" : "#222";
    var chart = echarts.getInstanceByDom(el) || echarts.init(el, opts.dark ? "dark" : null);
    var names = {};
    payload.areas.forEach(function (a) { names[a.code] = a.name; });
    var max = 0;
    payload.areas.forEach(function (a) { max = Math.max(max, value(a, metric) || 0); });
    max = max || 1;
    var shaped = payload.areas.filter(function (a) { return a.boundary; });
    var dots = payload.areas.filter(function (a) { return !a.boundary && a.lon !== null; });
    var size = function (v) { return 10 + 38 * Math.sqrt((v[2] || 0) / max); };
    var tooltip = {
      trigger: "item",
      formatter: function (p) {
        var v = Array.isArray(p.value) ? p.value[2] : p.value;
        return (names[p.name] || p.name) + "<br>" + LABELS[metric] + "：" + (v === undefined || v === null || isNaN(v) ? 0 : v);
      }
    };
    var dotData = dots.map(function (a) { return { name: a.code, value: [a.lon, a.lat, value(a, metric)] }; });
    var dotStyle = { color: "rgba(230, 60, 40, 0.75)", borderColor: "#fff", borderWidth: 1 };
    var fontSize = opts.fontSize || 12;
    // A bubble's label stands beside it, over whatever lies there: the page's text colour with a halo of the page.
    var dotLabel = { show: true, position: "right", color: text, fontSize: fontSize,
                     textBorderColor: opts.dark ? "#0b1426" : "#ffffff", textBorderWidth: 3,
                     formatter: function (p) { return names[p.name]; } };
    var option;
    if (payload.geojson.features.length) {
      var key = "fanzha-" + (payload.parent || "all") + "-" + payload.level;
      echarts.registerMap(key, payload.geojson);
      option = {
        backgroundColor: "transparent", tooltip: tooltip,
        visualMap: { type: "continuous", min: 0, max: max, seriesIndex: 0, calculable: true, left: 10, bottom: 10,
                     text: ["高", "低"], textStyle: { color: text }, inRange: { color: RAMP } },
        geo: { map: key, roam: true, boundingCoords: bounds(payload),
               label: { show: true, color: text, fontSize: fontSize, formatter: function (p) { return names[p.name] || ""; } },
               itemStyle: { areaColor: opts.dark ? "#1d2b45" : "#f3f4f6", borderColor: opts.dark ? "#6b7da0" : "#888" },
               regions: shaped.map(function (a) {
                 return { name: a.code, label: labelOn(fill(value(a, metric), max), fontSize) };
               }),
               emphasis: { label: labelOn(rgb("#ffd54f"), fontSize), itemStyle: { areaColor: "#ffd54f" } } },
        series: [
          { type: "map", geoIndex: 0, name: LABELS[metric],
            data: shaped.map(function (a) { return { name: a.code, value: value(a, metric) }; }) },
          { type: "scatter", coordinateSystem: "geo", name: LABELS[metric], data: dotData, symbolSize: size,
            itemStyle: dotStyle, label: dotLabel }
        ]
      };
    } else {
      // No boundary under this area: bubbles on plain longitude/latitude axes.
      var b = bounds(payload);
      option = {
        backgroundColor: "transparent", tooltip: tooltip, grid: { left: 10, right: 10, top: 10, bottom: 10 },
        xAxis: { type: "value", min: b[0][0], max: b[1][0], show: false, scale: true },
        yAxis: { type: "value", min: b[1][1], max: b[0][1], show: false, scale: true },
        series: [{ type: "scatter", name: LABELS[metric], data: dotData, symbolSize: size, itemStyle: dotStyle,
                   label: dotLabel }]
      };
    }
    chart.setOption(option, true);
    return chart;
  }

  window.FanzhaMap = { draw: draw, value: value, LABELS: LABELS, fill: fill, ink: ink };
})();
