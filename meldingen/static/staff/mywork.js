/* "Mijn werk" and today's route on a crew's phone: nearest first from the phone's position, the route ordered from
   it, and the service worker that keeps the list, its report pages and their photos on the phone and sends status
   changes made without signal later. */
(function () {
  "use strict";
  var state = document.getElementById("offline-state");
  var nearest = document.getElementById("nearest-first");
  var queued = 0, kept = null;
  function show() {
    if (!state) { return; }
    var parts = [];
    if (kept !== null) { parts.push(kept + " pagina's en foto's bewaard voor gebruik zonder verbinding"); }
    if (queued) { parts.push(queued + (queued === 1 ? " wijziging wacht" : " wijzigingen wachten") + " op verbinding"); }
    if (!navigator.onLine) { parts.unshift("Geen verbinding"); }
    state.textContent = parts.join(" · ");
  }
  if (nearest && navigator.geolocation) {
    nearest.addEventListener("click", function () {
      nearest.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var url = nearest.dataset.url + "?lat=" + pos.coords.latitude.toFixed(5) + "&lon=" + pos.coords.longitude.toFixed(5);
        window.location.assign(url);
      }, function () {
        nearest.disabled = false;
        if (state) { state.textContent = "Uw positie is niet beschikbaar; de lijst staat op deadline."; }
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }
  var orderForm = document.getElementById("route-order-form");
  if (orderForm && navigator.geolocation) {
    orderForm.addEventListener("submit", function (event) {
      if (orderForm.dataset.located) { return; }
      event.preventDefault();
      var done = function () { orderForm.dataset.located = "1"; orderForm.requestSubmit(); };
      navigator.geolocation.getCurrentPosition(function (pos) {
        orderForm.elements.lat.value = pos.coords.latitude.toFixed(5);
        orderForm.elements.lon.value = pos.coords.longitude.toFixed(5);
        done();
      }, done, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }
  var script = document.getElementById("mywork-script");
  if (!("serviceWorker" in navigator) || !script) { return; }
  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "queue") { queued = data.count; }
    if (data.type === "kept") { kept = data.count; document.body.dataset.offlineReady = "1"; }
    show();
  });
  navigator.serviceWorker.register(script.dataset.sw, { scope: "/staff/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    var urls = [window.location.pathname + window.location.search];
    var routeLink = document.getElementById("route-link");
    if (routeLink) { urls.push(routeLink.getAttribute("href")); }
    document.querySelectorAll("#worklist li[data-report-url]").forEach(function (li) {
      urls.push(li.dataset.reportUrl);
      (li.dataset.photoUrls || "").split(" ").forEach(function (u) { if (u) { urls.push(u); } });
    });
    // The report page's own styles and scripts too: offline, its status form still confirms a change that
    // messages residents before it is kept on the phone (report.js).
    (script.dataset.keepAssets || "").split(" ").forEach(function (u) { if (u) { urls.push(u); } });
    registration.active.postMessage({ type: "keep", urls: urls });
    registration.active.postMessage({ type: "replay" });
  });
  window.addEventListener("online", function () {
    show();
    if (navigator.serviceWorker.controller) { navigator.serviceWorker.controller.postMessage({ type: "replay" }); }
  });
  window.addEventListener("offline", show);
})();
