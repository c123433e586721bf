/* The work order: a small fixed map of the spot (street tiles where configured) and the print button. */
(function () {
  "use strict";
  var button = document.getElementById("print-workorder");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  var el = document.getElementById("wo-map");
  if (!el || !window.L || !window.MeldingenPins) { return; }
  var point = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el, { zoomControl: false, dragging: false, scrollWheelZoom: false, doubleClickZoom: false,
                        boxZoom: false, keyboard: false, touchZoom: false, attributionControl: true }).setView(point, 18);
  MeldingenPins.tiles(map, el);
  L.circle(point, { radius: 12, color: "#c0392b", weight: 3, fill: false }).addTo(map);
  L.circleMarker(point, { radius: 5, color: "#c0392b", fillColor: "#c0392b", fillOpacity: 1 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
})();
