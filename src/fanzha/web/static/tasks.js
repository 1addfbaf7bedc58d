// 我的任务: the list refreshes itself every 30 s (htmx). When a high-grade warning appears that was not there
// before, the phone vibrates where it can and plays a short tone, and the title says how many wait.
(function () {
  "use strict";
  function ids(el) {
    var v = el && el.getAttribute("data-high");
    return v ? v.split(",") : [];
  }
  var known = null;
  function tone() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch (e) { /* a browser that refuses sound without a tap: the vibration and the title still tell */ }
  }
  function check() {
    var el = document.getElementById("tasks");
    if (!el) return;
    var now = ids(el);
    if (known !== null) {
      var fresh = now.filter(function (id) { return known.indexOf(id) < 0; });
      if (fresh.length) {
        if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
        tone();
        el.setAttribute("data-announced", fresh.join(","));
      }
    }
    known = now;
    var unread = el.getAttribute("data-unread") || "0";
    document.title = (now.length ? "（" + now.length + " 高）" : "") + "我的任务 · 反诈平台";
    var badge = document.querySelector(".bell-phone .badge");
    if (badge) { badge.textContent = unread; badge.hidden = unread === "0"; }
  }
  document.addEventListener("DOMContentLoaded", check);
  document.addEventListener("htmx:afterSwap", check);
})();
