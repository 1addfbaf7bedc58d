// Fanzha wall screen (大屏): fetch the figures from the platform's own API every 60 s and redraw in place.
(function () {
  var REFRESH_MS = 60000;
  var charts = {};
  var zone = null;  // the platform's time zone, from the feed, so the clock agrees with the figures

  function $(id) { return document.getElementById(id); }
  function num(v) { return v === null || v === undefined ? "—" : Number(v).toLocaleString("zh-CN"); }
  function change(r) {
    if (r === null || r === undefined) { return "同比 —"; }
    var p = Math.abs(r * 100).toFixed(1) + "%";
    return r > 0 ? "同比 ↑" + p : (r < 0 ? "同比 ↓" + p : "同比 持平");
  }
  function chart(id) {
    if (!charts[id]) { charts[id] = echarts.init($(id), "dark"); }
    return charts[id];
  }
  function rank(id, rows) {
    var body = $(id).querySelector("tbody");
    body.textContent = "";
    rows.forEach(function (r, i) {
      var tr = document.createElement("tr");
      [i + 1, r.name, r.cases + " 起", r.loss_wan.toFixed(2) + " 万元"].forEach(function (v, j) {
        var td = document.createElement("td");
        td.textContent = v;
        if (j === 1) { td.setAttribute("translate", "no"); }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function paint(d) {
    var w = d.warnings_today || {};
    ["dispatched", "signed", "fed_back", "dissuaded", "overdue"].forEach(function (key) {
      $("t-" + key).textContent = num(w[key]);
      if (w.labels && w.labels[key]) { $("l-" + key).textContent = "今日" + w.labels[key]; }
      if (w.bases && w.bases[key]) { $("b-" + key).textContent = w.bases[key]; }
    });
    if (w.definitions) { $("s-today").title = w.definitions.join("\n"); }
    $("t-cases").textContent = num(d.month.cases);
    $("t-loss").textContent = d.month.loss_wan.toFixed(2);
    $("t-cases-yoy").textContent = change(d.month.cases_yoy);
    $("t-loss-yoy").textContent = change(d.month.loss_yoy);
    // 本月破案、抓获, each by its own time as 案件研判 and the bulletins count them; the full basis on hover.
    $("t-solved").textContent = num(d.month.solved);
    $("t-suspects").textContent = num(d.month.suspects);
    if (d.month.basis) { $("s-month").title = d.month.basis; }
    // 本月止付、冻结、查询 as the month's bulletin counts them (反诈中心处理情况); absent for a reader without warnings.
    if (d.handled) {
      $("t-stops").textContent = num(d.handled.stops);
      $("t-stop-wan").textContent = d.handled.stop_wan.toFixed(2);
      $("t-freezes").textContent = num(d.handled.freezes);
      $("t-frozen-wan").textContent = d.handled.frozen_wan.toFixed(2);
      $("t-queries").textContent = num(d.handled.queries);
      $("s-handled").hidden = false;
    }
    $("s-updated").textContent = d.now.slice(11, 16);
    zone = d.timezone || null;
    var big = { fontSize: 18 };
    chart("c-trend").setOption({
      backgroundColor: "transparent", tooltip: { trigger: "axis" }, legend: { textStyle: big, top: 0 },
      grid: { left: 50, right: 50, top: 40, bottom: 30 },
      xAxis: { type: "category", data: d.trend.days.map(function (s) { return s.slice(5); }), axisLabel: big },
      yAxis: [{ type: "value", name: "下发", axisLabel: big }, { type: "value", name: "发案", axisLabel: big }],
      series: [{ name: "下发数", type: "line", data: d.trend.warnings, lineStyle: { width: 3 } },
               { name: "发案数", type: "line", yAxisIndex: 1, data: d.trend.cases, lineStyle: { width: 3 } }]
    });
    chart("c-types").setOption({
      backgroundColor: "transparent", tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "68%"], label: { fontSize: 16, formatter: "{b}\n{c}起" },
                 data: d.types.slice(0, 8).map(function (t) { return { name: t.label, value: t.cases }; }) }]
    });
    charts["c-map"] = window.FanzhaMap.draw($("c-map"), d.map, "cases", { dark: true, fontSize: 14 });
    rank("r-townships", d.townships);
    rank("r-stations", d.stations);
  }

  function load() {
    fetch(document.body.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(paint)
      .catch(function () { $("s-updated").textContent = "刷新失败，稍后重试"; });
  }

  function tick() {
    var now = new Date();
    var opts = { hour12: false };
    if (zone) { opts.timeZone = zone; }
    $("s-clock").textContent = now.toLocaleString("zh-CN", opts);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined" || !window.FanzhaMap) { return; }
    tick();
    setInterval(tick, 1000);
    load();
    setInterval(load, REFRESH_MS);
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  });
})();
