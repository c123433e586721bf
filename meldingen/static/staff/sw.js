/* The crew's service worker (scope /staff/). Keeps "mijn werk", today's route, the report pages on them and their
   photos readable without signal (network first, the kept copy when there is none), and keeps status changes made
   without signal on the phone (IndexedDB) until it is back online, then sends them in order. The staff pages'
   styles and scripts are kept when it installs (PRECACHE, written above this file by the page that serves it), so
   the first page opened without signal is styled. Nothing is kept after signing out. */
"use strict";
var CACHE = "meldingen-crew-v2";
var DB_NAME = "meldingen-crew";
var STORE = "status-queue";
var SYNC_TAG = "meldingen-status";

self.addEventListener("install", function (event) {
  var assets = typeof PRECACHE === "undefined" ? [] : PRECACHE;
  // One asset that cannot be fetched must not stop the worker: each is kept on its own.
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(assets.map(function (href) { return cache.add(href).catch(function () {}); }));
  }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// --- the queue of status changes, in IndexedDB --------------------------------------------------------------
function openDb() {
  return new Promise(function (resolve, reject) {
    var request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true }); };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });
}
function withStore(mode, work) {
  return openDb().then(function (db) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(STORE, mode);
      var result = work(tx.objectStore(STORE));
      tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
      tx.onerror = function () { db.close(); reject(tx.error); };
    });
  });
}
function queueAdd(item) { return withStore("readwrite", function (s) { return s.add(item); }); }
function queueAll() { return withStore("readonly", function (s) { return s.getAll(); }); }
function queueDelete(id) { return withStore("readwrite", function (s) { return s.delete(id); }); }
function queueClear() { return withStore("readwrite", function (s) { return s.clear(); }); }

function tellPages(message) {
  return self.clients.matchAll({ includeUncontrolled: true }).then(function (clients) {
    clients.forEach(function (c) { c.postMessage(message); });
  });
}
function tellQueueLength() {
  return queueAll().then(function (items) { return tellPages({ type: "queue", count: items.length }); });
}

// --- requests -------------------------------------------------------------------------------------------------
var STATUS_POST = /^\/staff\/reports\/[^/]+\/status$/;

function keepable(url) {
  return url.origin === self.location.origin && (url.pathname === "/staff/werk" || url.pathname === "/staff/route" ||
    /^\/staff\/reports\/[^/]+$/.test(url.pathname) || url.pathname.indexOf("/media/photos/") === 0 ||
    url.pathname.indexOf("/static/") === 0);
}
function cacheKey(url) {
  // One copy of each page of the list and of the route, whatever position they were sorted from.
  if (url.pathname === "/staff/werk") {
    var page = url.searchParams.get("page");
    return url.origin + "/staff/werk" + (page && page !== "1" ? "?page=" + encodeURIComponent(page) : "");
  }
  return url.pathname === "/staff/route" ? url.origin + "/staff/route" : url.href;
}

function forgetPages() {
  // Signing out: every kept page and photo goes; the styles and scripts (no one's data) stay for the next sign-in.
  return caches.open(CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (r) { return new URL(r.url).pathname.indexOf("/static/") !== 0; })
        .map(function (r) { return cache.delete(r); }));
    });
  });
}

function offlinePage(title, text, status) {
  var html = "<!doctype html><html lang=\"nl\"><meta charset=\"utf-8\"><meta name=\"viewport\" " +
    "content=\"width=device-width, initial-scale=1\"><title>" + title + "</title>" +
    "<link rel=\"stylesheet\" href=\"/static/staff/staff.css\"><main><h1>" + title + "</h1><p id=\"offline-message\">" +
    text + "</p><p><a href=\"/staff/werk\">Naar mijn werk</a></p></main></html>";
  return new Response(html, { status: status, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function networkFirst(request) {
  var url = new URL(request.url);
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(cacheKey(url), copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) { return cache.match(cacheKey(url)); }).then(function (kept) {
      return kept || offlinePage("Geen verbinding", "Deze pagina is niet op de telefoon bewaard. Probeer het " +
        "opnieuw als u weer verbinding heeft.", 503);
    });
  });
}

function postOrQueue(request) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return copy.formData().then(function (form) {
      var entries = [];
      form.forEach(function (value, key) { entries.push([key, value]); });
      return queueAdd({ url: request.url, entries: entries, at: Date.now() });
    }).then(function () {
      if (self.registration.sync) { self.registration.sync.register(SYNC_TAG).catch(function () {}); }
      tellQueueLength();
      return offlinePage("Bewaard zonder verbinding", "U heeft nu geen verbinding. Uw wijziging is op deze " +
        "telefoon bewaard en wordt vanzelf verstuurd zodra er weer verbinding is.", 202);
    });
  });
}

function send(item, form) {
  return fetch(item.url, { method: "POST", body: form, credentials: "same-origin", redirect: "manual" });
}

function freshToken(item) {
  // A form kept for long may carry an expired CSRF token: take a new one from the report page itself.
  return fetch(item.url.replace(/\/status$/, ""), { credentials: "same-origin" }).then(function (r) { return r.text(); })
    .then(function (html) { var m = html.match(/name="csrf_token" value="([^"]+)"/); return m ? m[1] : null; });
}

var replaying = null;
function replay() {
  if (replaying) { return replaying; }
  replaying = queueAll().then(function (items) {
    return items.reduce(function (previous, item) {
      return previous.then(function () {
        var form = new FormData();
        item.entries.forEach(function (pair) { form.append(pair[0], pair[1]); });
        return send(item, form).then(function (response) {
          if (response.status !== 400) { return response; }
          return freshToken(item).then(function (token) {
            if (!token) { return response; }
            form.set("csrf_token", token);
            return send(item, form);
          });
        }).then(function (response) {
          // A redirect back to the report page is the answer to a handled form (done, or refused with a message
          // shown on that page); anything else stays queued for the next try.
          if (response.type === "opaqueredirect" || response.ok) { return queueDelete(item.id); }
        });
      });
    }, Promise.resolve());
  }).catch(function () { /* still offline: the next online event or sync tries again */ })
    .then(function () { replaying = null; return tellQueueLength(); });
  return replaying;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST") {
    if (url.pathname === "/staff/logout") {
      event.waitUntil(Promise.all([forgetPages(), queueClear()]));
      return;
    }
    if (STATUS_POST.test(url.pathname)) { event.respondWith(postOrQueue(request)); }
    return;
  }
  if (request.method === "GET" && keepable(url)) { event.respondWith(networkFirst(request)); }
});

self.addEventListener("sync", function (event) {
  if (event.tag === SYNC_TAG) { event.waitUntil(replay()); }
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "replay") { event.waitUntil(replay()); }
  if (data.type === "queue") { event.waitUntil(tellQueueLength()); }
  if (data.type === "keep" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(CACHE).then(function (cache) {
      return Promise.all(data.urls.map(function (href) {
        var url = new URL(href, self.location.origin);
        if (!keepable(url)) { return 0; }
        return fetch(url.href, { credentials: "same-origin", headers: { "X-Meldingen-Prefetch": "1" } }).then(function (response) {
          if (!response.ok || response.redirected) { return 0; }
          return cache.put(cacheKey(url), response).then(function () { return 1; });
        }).catch(function () { return 0; });
      }));
    }).then(function (done) {
      return tellPages({ type: "kept", count: done.reduce(function (a, b) { return a + b; }, 0) });
    }));
  }
});
