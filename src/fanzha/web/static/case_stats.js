// Fanzha 案件研判 page: cases by fraud type, drawn with the ECharts served by the platform itself.
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("type-chart");
  var data = document.getElementById("type-data");
  if (!holder || !data || typeof echarts === "undefined") { return; }
  var payload = JSON.parse(data.textContent);
  var chart = echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis" }, grid: { left: 140, right: 30, top: 10, bottom: 30 },
    xAxis: { type: "value", name: "起", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: payload.types.map(function (t) { return t.name; }) },
    series: [{ name: "立案数", type: "bar", data: payload.types.map(function (t) { return t.value; }) }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
