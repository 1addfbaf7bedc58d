// Fanzha metrics page: the trend chart, drawn with the ECharts served by the platform itself.
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("trend");
  var data = document.getElementById("trend-data");
  if (!holder || !data || typeof echarts === "undefined") { return; }
  var payload = JSON.parse(data.textContent);
  var periods = payload.points.map(function (p) { return p.period; });
  var series = [{ name: "预警数", type: "bar", yAxisIndex: 1, data: payload.points.map(function (p) { return p.warnings; }) }];
  payload.rates.forEach(function (r) {
    series.push({ name: r.label, type: "line", data: payload.points.map(function (p) { return p[r.key] === null ? null : Math.round(p[r.key] * 1000) / 10; }) });
  });
  var chart = echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: { type: "scroll" }, grid: { left: 40, right: 40, bottom: 30 },
    xAxis: { type: "category", data: periods },
    yAxis: [{ type: "value", name: "%", max: 100 }, { type: "value", name: "条" }],
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
