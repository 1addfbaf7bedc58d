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
    var dotLabel = { show: true, position: "right", color: text, fontSize: opts.fontSize || 12,
                     formatter: function (p) { return names[p.name]; } };
    var option;
    if (payload.geojson.features.length) {
      var key = "fanzha-" + (payload.parent || "all") + "-" + payload.level;
      echarts.registerMap(key, payload.geojson);
      option = {
        backgroundColor: "transparent", tooltip: tooltip,
        visualMap: { type: "continuous", min: 0, max: max, seriesIndex: 0, calculable: true, left: 10, bottom: 10,
                     text: ["高", "低"], textStyle: { color: text }, inRange: { color: ["#fff1ec", "#f4a582", "#c00000"] } },
        geo: { map: key, roam: true, boundingCoords: bounds(payload),
               label: { show: true, color: text, fontSize: opts.fontSize || 12, formatter: function (p) { return names[p.name] || ""; } },
               itemStyle: { areaColor: opts.dark ? "#1d2b45" : "#f3f4f6", borderColor: opts.dark ? "#6b7da0" : "#888" },
               emphasis: { label: { show: true }, itemStyle: { areaColor: "#ffd54f" } } },
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

  window.FanzhaMap = { draw: draw, value: value, LABELS: LABELS };
})();
