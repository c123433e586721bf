/* The backlog's hotspot map: area outlines and circles sized by the number of open reports per ~200 m cell, each
   with its count (and how many are late) written on it. */
(function () {
  "use strict";
  var el = document.getElementById("hotspot-map");
  if (!el || !window.L || !window.MeldingenPins) { return; }
  var map = L.map(el, { maxZoom: 19 }).setView([52.2, 5.3], 8);
  MeldingenPins.tiles(map, el);
  var spots = JSON.parse(el.dataset.hotspots || "[]");
  var group = L.featureGroup().addTo(map);
  spots.forEach(function (s) {
    L.circleMarker([s.lat, s.lon], { radius: 6 + Math.sqrt(s.count) * 3, color: s.late ? "#c0392b" : "#1f6fb2",
      weight: 2, fillOpacity: 0.35 }).bindTooltip(s.count + (s.late ? " (" + s.late + " te laat)" : ""),
      { permanent: true, direction: "center", className: "hotspot-count" })  // counts readable without hovering
      .addTo(group);
  });
  fetch(el.dataset.areasUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    var areas = L.geoJSON(data, { style: function () { return { color: "#5a6b85", weight: 1, fillOpacity: 0.03 }; } }).addTo(map);
    var b = spots.length ? group.getBounds() : areas.getBounds();
    if (b.isValid()) { map.fitBounds(b.pad(0.2), { maxZoom: 16 }); }
  }).catch(function () {});
})();
