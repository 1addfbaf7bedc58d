// Fanzha service worker (served at /sw.js, scope /): the app shell and the task pages for reading without signal.
// Only GET pages are kept, and a GET page never carries a full number (拨打 and 显示号码 are POSTs), so the cache
// holds masked data only. A kept page is served for 12 hours at most; every page without a signed-in user (the
// login page after 退出) tells this worker to clear everything.
"use strict";

const CACHE = "fanzha-offline-v1";
const MAX_AGE_MS = 12 * 3600 * 1000;
const STAMP = "x-fanzha-cached-at";
const PAGES = /^\/(tasks|warnings\/\d+)$/;
const SHELL = /^\/static\/v\//;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "clear") {
    event.waitUntil(caches.delete(CACHE));
  } else if (data.type === "shell" && Array.isArray(data.urls)) {
    const urls = data.urls.filter((u) => SHELL.test(new URL(u, self.location.origin).pathname));
    event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(urls.map(async (u) => {
      if (!(await cache.match(u))) await keep(cache, u, await fetch(u, { credentials: "same-origin" }));
    }))).catch(() => undefined));
  }
});

async function keep(cache, key, response) {
  if (!response || !response.ok || response.type !== "basic" || response.redirected) return;
  const headers = new Headers(response.headers);
  headers.set(STAMP, String(Date.now()));
  await cache.put(key, new Response(await response.blob(), { status: response.status, headers }));
}

function fresh(response) {
  return Boolean(response) && Date.now() - Number(response.headers.get(STAMP) || 0) <= MAX_AGE_MS;
}

async function page(request) {
  const url = new URL(request.url);
  const key = url.origin + url.pathname;  // one copy per page, whatever its ?done=…
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    keep(cache, key, response.clone()).catch(() => undefined);
    return response;
  } catch (err) {
    const kept = await cache.match(key);
    if (fresh(kept)) return kept;
    if (kept) await cache.delete(key);
    return offlinePage();
  }
}

async function shell(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request.url);
  if (fresh(kept)) return kept;
  const response = await fetch(request);
  keep(cache, request.url, response.clone()).catch(() => undefined);
  return response;
}

function offlinePage() {
  const html = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>无网络 · 反诈平台</title>" +
    "<body style=\"font-family:sans-serif;padding:1rem\"><h1>当前无网络</h1>" +
    "<p>本页没有 12 小时内的离线副本。请在有信号时打开一次“我的任务”和要处置的预警，之后断网也能查看。</p>" +
    "<p><a href=\"/tasks\">返回我的任务</a></p></body></html>";
  return new Response(html, { status: 503, headers: { "content-type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && PAGES.test(url.pathname)) {
    event.respondWith(page(request));
  } else if (SHELL.test(url.pathname)) {
    event.respondWith(shell(request));
  }
});
