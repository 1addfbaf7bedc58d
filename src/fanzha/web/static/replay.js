// Fanzha 调度回放: the two policies' 90th-percentile time to first contact by grade, with the ECharts served here.
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("replay-chart");
  var data = document.getElementById("replay-data");
  if (!holder || !data || typeof echarts === "undefined") { return; }
  var payload = JSON.parse(data.textContent);
  var chart = echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: {}, grid: { left: 50, right: 20, bottom: 30 },
    xAxis: { type: "category", data: payload.grades.map(function (g) { return g + "级"; }) },
    yAxis: { type: "value", name: "分钟" },
    series: payload.series.map(function (s) { return { name: s.name, type: "bar", data: s.p90 }; })
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
