// The warning page on a phone: the countdown to the next deadline ticks, 拨打 fetches the number only when tapped
// (an audited reveal) and opens the dialler, and a 见面 photo brings the phone's position with its accuracy.
// Everything here is an aid: without script the page says the same and its forms work as they are.
(function () {
  "use strict";

  // Same words as the server's `left` filter (warnings/views.py _left).
  function left(deadline, now) {
    var minutes = Math.floor((deadline - now) / 60000);
    if (minutes < 0) {
      var m = -minutes;
      return m >= 1440 ? "已超时 " + Math.floor(m / 1440) + "天" + Math.floor((m % 1440) / 60) + "小时"
        : "已超时 " + Math.floor(m / 60) + "小时" + (m % 60) + "分";
    }
    return minutes >= 60 ? "剩余 " + Math.floor(minutes / 60) + "小时" + (minutes % 60) + "分" : "剩余 " + minutes + "分钟";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(at)) return;
      el.textContent = left(at, now);
      var box = el.closest(".wp-countdown");
      if (box) box.classList.toggle("late", at < now);
    });
  }

  function showDial(tel, label) {
    var row = document.getElementById("call-actions");
    var link = document.getElementById("dial");
    if (row && !link) {
      link = document.createElement("a");
      link.id = "dial";
      link.className = "button primary";
      row.insertBefore(link, row.firstChild);
    }
    if (link) {
      link.href = "tel:" + tel;
      link.textContent = "拨打" + label + " " + tel;
    }
    // After the call, the next step is to record it.
    var next = document.getElementById("call-next");
    if (next) {
      var to = document.createElement("a");
      to.className = "button primary";
      to.id = "to-contact";
      to.href = "#contact-form";
      to.textContent = "登记联系";
      next.closest("form").replaceWith(to);
      document.querySelectorAll(".wp-steps li").forEach(function (li, i) { li.classList.toggle("now", i === 2); });
    }
    if (link) link.click();  // the dialler, as a tap on the link would open it
  }

  function call(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.wp-call") || !window.fetch) return;
    event.preventDefault();
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) { showDial(d.tel, d.label); })
      .catch(function () { form.submit(); });  // the page without script shows the number as a link
  }

  function locate(status, form) {
    if (!("geolocation" in navigator) || !window.isSecureContext) {
      status.textContent = "此连接不是 HTTPS，浏览器不提供定位；请在“位置”中写明地点。";
      return;
    }
    status.textContent = "正在获取定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.latitude.value = pos.coords.latitude.toFixed(6);
      form.elements.longitude.value = pos.coords.longitude.toFixed(6);
      form.elements.accuracy.value = Math.round(pos.coords.accuracy);
      status.textContent = "已获取定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）";
    }, function (err) {
      status.textContent = err.code === 1 ? "未允许定位；请在“位置”中写明地点。" : "暂时无法定位；请在“位置”中写明地点。";
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  }

  function setUpLocation() {
    var form = document.getElementById("contact-form");
    if (!form || !form.elements.latitude) return;
    var button = form.querySelector("[data-geo]");
    var status = form.querySelector("[data-geo-status]");
    if (!button || !status) return;
    if (("geolocation" in navigator) && window.isSecureContext) button.hidden = false;
    else if (!status.textContent.trim()) status.textContent = "此连接不是 HTTPS，浏览器不提供定位；请在“位置”中写明地点。";
    button.addEventListener("click", function () { locate(status, form); });
    var photo = form.elements.photo;
    if (photo) {
      photo.addEventListener("change", function () {
        if (photo.files.length && !form.elements.latitude.value) locate(status, form);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 15000);
    document.addEventListener("submit", call);
    setUpLocation();
    var ask = document.querySelector(".wp-ask");
    if (ask) ask.scrollIntoView({block: "center"});
  });
})();
