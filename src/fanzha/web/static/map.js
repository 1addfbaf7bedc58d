// Fanzha map page: fetch the layer from the platform's own API, draw it, and list the figures beside it.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("casemap");
  if (!el || typeof echarts === "undefined" || !window.FanzhaMap) { return; }
  var metric = el.getAttribute("data-metric") || "cases";
  fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (payload) {
      var chart = window.FanzhaMap.draw(el, payload, metric);
      window.addEventListener("resize", function () { chart.resize(); });
      var body = document.querySelector("#casemap-table tbody");
      var rows = payload.areas.slice().sort(function (a, b) { return b.cases - a.cases || b.loss - a.loss; });
      rows.forEach(function (a) {
        var tr = document.createElement("tr");
        [a.name, a.cases, a.loss_wan.toFixed(2), a.solved, a.suspects, a.per_10k === null ? "—" : a.per_10k.toFixed(2),
         a.boundary ? "分级设色" : (a.lon === null ? "无坐标" : "圆点")].forEach(function (v, i) {
          var td = document.createElement("td");
          td.textContent = v;
          if (i > 0 && i < 6) { td.className = "num"; }
          if (i === 0) { td.setAttribute("translate", "no"); }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    })
    .catch(function () { el.textContent = "地图数据加载失败，请刷新重试"; });
});
