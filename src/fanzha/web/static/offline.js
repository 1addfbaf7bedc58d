// Fanzha offline queue (离线提交): a contact or an outcome recorded without signal is kept on the phone, shown as
// 待上传 and sent when the signal returns (the online event, and every 30 s). Each form carries an idempotency key
// made when the page is shown, so a submission sent twice is recorded once. Over HTTPS (or localhost) the queue is
// kept in IndexedDB and the service worker keeps the task pages for reading; otherwise the page says so and keeps
// its queue only while it stays open. A page without a signed-in user (the login page after 退出) clears the cache.
(function () {
  "use strict";

  var CACHE_PREFIX = "fanzha-offline";
  var FORM = /^\/warnings\/(\d+)\/(contacts|outcome)(\/confirm)?$/;
  var FACE = { face_to_face: true, visit: true };
  var RETRY_MS = 30000;
  var meta = document.querySelector('meta[name="fanzha-user"]');
  var user = meta ? meta.content : "";
  var secure = window.isSecureContext === true;
  var memory = [];  // the queue without HTTPS: gone when the page closes
  var flushing = false;

  function clearCaches() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "clear" });
    }
    if (window.caches) {
      caches.keys().then(function (names) {
        names.forEach(function (name) { if (name.indexOf(CACHE_PREFIX) === 0) caches.delete(name); });
      });
    }
  }

  if (!user) { clearCaches(); return; }

  if (secure && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var urls = [];
      document.querySelectorAll("script[src], link[rel=stylesheet]").forEach(function (el) {
        urls.push(el.src || el.href);
      });
      if (registration.active) registration.active.postMessage({ type: "shell", urls: urls });
    }).catch(function () { /* the page works without it */ });
  }

  // -- the store -------------------------------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("fanzha-offline", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("queue", { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction("queue", mode);
        var result = work(t.objectStore("queue"));
        t.oncomplete = function () { db.close(); resolve(result && result.result); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }

  function all() {
    if (!secure) return Promise.resolve(memory.slice());
    return tx("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).filter(function (i) { return i.user === user; })
        .sort(function (a, b) { return a.device_at < b.device_at ? -1 : 1; });
    });
  }

  function put(item) {
    if (!secure) {
      memory = memory.filter(function (i) { return i.key !== item.key; }).concat([item]);
      return Promise.resolve();
    }
    return tx("readwrite", function (store) { store.put(item); });
  }

  function remove(key) {
    if (!secure) {
      memory = memory.filter(function (i) { return i.key !== key; });
      return Promise.resolve();
    }
    return tx("readwrite", function (store) { store.delete(key); });
  }

  // -- forms -----------------------------------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function hidden(form, name, value) {
    var input = form.querySelector('input[type=hidden][name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function queuedForm(form) {
    var action = form.getAttribute("action") || "";
    return FORM.exec(action.replace(/^https?:\/\/[^/]+/, ""));
  }

  function optionText(form, name) {
    var select = form.querySelector('select[name="' + name + '"]');
    if (select && select.selectedIndex >= 0) return select.options[select.selectedIndex].text;
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? (checked.closest("label") || checked).textContent.trim() : "";
  }

  function fieldValue(form, name) {
    var el = form.elements[name];
    if (!el) return "";
    if (el.type === "checkbox") return el.checked ? "on" : "";
    return el.value || "";
  }

  function hasEvidence(form) {
    var photo = form.querySelector('input[type=file][name="photo"]');
    return Boolean((photo && photo.files && photo.files.length) || fieldValue(form, "location").trim() ||
      fieldValue(form, "notice_signed") || fieldValue(form, "latitude"));
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (queuedForm(form)) hidden(form, "idempotency_key", uuid());
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var m = queuedForm(form);
    if (!m || event.defaultPrevented) return;
    hidden(form, "device_at", new Date().toISOString());
    if (navigator.onLine) return;  // sent at once, with its key: a repeat is recorded once
    event.preventDefault();
    var kind = m[2] === "contacts" ? "contact" : "outcome";
    var data = new FormData(form);
    var label;
    if (kind === "contact") {
      label = "联系：" + optionText(form, "channel") + " · " + optionText(form, "result");
      if (FACE[data.get("channel")] && data.get("result") === "reached" && !hasEvidence(form)) {
        if (!window.confirm("这次见面没有照片、位置或签字告知书，不计入见面劝阻率。仍然保存？")) return;
        data.set("confirm_uncounted", "on");
      }
    } else {
      if (!data.get("outcome")) { window.alert("请选择劝阻结果"); return; }
      label = "反馈：" + optionText(form, "outcome");
      if (!window.confirm("当前无网络。反馈后预警即结案，不能再修改；恢复信号后自动上传。确认反馈？")) return;
    }
    var fields = [];
    data.forEach(function (value, name) {
      if (name === "photo" && value instanceof File && !value.size) return;
      fields.push([name, value]);
    });
    var item = { key: data.get("idempotency_key") || uuid(), user: user, warning: m[1], kind: kind, label: label,
                 url: "/warnings/" + m[1] + "/" + m[2], fields: fields, device_at: data.get("device_at"),
                 state: "pending", message: "" };
    put(item).then(function () {
      form.reset();
      hidden(form, "idempotency_key", uuid());
      show();
    });
  });

  // -- sending ---------------------------------------------------------------------------------------------------
  function csrf() {
    var token = document.querySelector('meta[name="csrf-token"]');
    return token ? token.content : "";
  }

  function refusal(response) {
    return response.text().then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var alert = doc.querySelector(".alert, .ask, h1");
      return "未被接受：" + (alert ? alert.textContent.trim().slice(0, 120) : "服务器答复 " + response.status);
    });
  }

  function sendOne(item) {
    var body = new FormData();
    item.fields.forEach(function (pair) {
      if (pair[0] !== "csrf_token" && pair[0] !== "sent_at") body.append(pair[0], pair[1]);
    });
    body.append("csrf_token", csrf());
    body.append("sent_at", new Date().toISOString());
    return fetch(item.url, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
      var url = new URL(response.url);
      if (response.redirected && /[?&](done|conflict)=/.test(url.search)) {
        return remove(item.key).then(function () { return "sent"; });
      }
      if (response.redirected && url.pathname === "/login") {
        item.message = "登录已过期：重新登录后自动上传";
        return put(item).then(function () { return "stop"; });
      }
      return refusal(response).then(function (message) {
        item.state = "failed";
        item.message = message;
        return put(item).then(function () { return "failed"; });
      });
    }, function () { return "stop"; });  // still no signal: try again later
  }

  function flush() {
    if (flushing || !navigator.onLine) return Promise.resolve(0);
    flushing = true;
    var sent = 0;
    return all().then(function (items) {
      var pending = items.filter(function (i) { return i.state === "pending"; });
      var step = function (n) {
        if (n >= pending.length) return Promise.resolve();
        return sendOne(pending[n]).then(function (outcome) {
          if (outcome === "sent") sent += 1;
          return outcome === "stop" ? undefined : step(n + 1);
        });
      };
      return step(0);
    }).then(function () {
      flushing = false;
      if (sent) { window.location.reload(); } else { show(); }
      return sent;
    }, function () { flushing = false; return 0; });
  }

  // -- showing ---------------------------------------------------------------------------------------------------
  function hhmm(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : (d.getMonth() + 1) + "月" + d.getDate() + "日 " + ("0" + d.getHours()).slice(-2) + ":" +
      ("0" + d.getMinutes()).slice(-2);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function show() {
    return all().then(function (items) {
      var box = document.getElementById("offline-queue");
      if (!items.length) { if (box) box.remove(); return; }
      if (!box) {
        box = el("section", "card offline-queue");
        box.id = "offline-queue";
        var main = document.querySelector("main.page") || document.body;
        main.insertBefore(box, main.firstChild);
      }
      box.textContent = "";
      box.appendChild(el("h2", "", "待上传 " + items.length + " 条"));
      box.appendChild(el("p", "small muted", navigator.onLine ? "正在上传…" :
        "当前无网络：记录已保存在本机，恢复信号后自动上传，不会重复记录。"));
      var list = el("ul", "");
      items.forEach(function (item) {
        var li = el("li", item.state === "failed" ? "failed" : "pending");
        var link = el("a", "", item.label);
        link.href = "/warnings/" + item.warning;
        li.appendChild(link);
        li.appendChild(el("span", "small muted", " · 记录于 " + hhmm(item.device_at) + " · "));
        li.appendChild(el("strong", "queue-state", item.state === "failed" ? "上传失败" : "待上传"));
        if (item.message) li.appendChild(el("span", "small", " " + item.message));
        if (item.state === "failed") {
          var drop = el("button", "link", "放弃");
          drop.type = "button";
          drop.addEventListener("click", function () {
            if (window.confirm("放弃这条未上传的记录？")) remove(item.key).then(show);
          });
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
      box.appendChild(list);
    });
  }

  function sayNoHttps() {
    var onTaskPage = /^\/(tasks|warnings\/\d+)$/.test(location.pathname);
    if (secure || !onTaskPage) return;
    var note = el("p", "alert offline-note",
      "当前连接不是 HTTPS：断网查看任务（离线缓存）和手机定位都需要 HTTPS。断网时登记的内容只在本页打开期间保留，" +
      "恢复信号前请勿关闭或刷新本页。");
    var main = document.querySelector("main.page") || document.body;
    main.insertBefore(note, main.firstChild);
    window.addEventListener("beforeunload", function (event) {
      if (memory.length) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  sayNoHttps();
  window.addEventListener("online", flush);
  window.addEventListener("offline", show);
  setInterval(flush, RETRY_MS);
  show().then(flush);
})();
