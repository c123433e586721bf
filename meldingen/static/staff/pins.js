/* One look for report pins on every staff map: the fill is the status (as the legend says), a red ring means
   late, the letter is the main category. Used by map.js and report.js; no build step. */
(function () {
  "use strict";
  // Main category slug → the letter in the pin (the legend lists the ones on the map).
  var LETTERS = {
    "afval": "A", "wegen-verkeer-straatmeubilair": "W", "overlast-in-de-openbare-ruimte": "O",
    "openbaar-groen-en-water": "G", "overlast-van-dieren": "D", "overlast-van-en-door-personen-of-groepen": "P",
    "overlast-bedrijven-en-horeca": "H", "overlast-op-het-water": "B", "overig": "?"
  };
  var NAMES = {
    "A": "afval", "W": "wegen, verkeer, straatmeubilair", "O": "overlast in de openbare ruimte",
    "G": "groen en water", "D": "dieren", "P": "personen of groepen", "H": "bedrijven en horeca",
    "B": "op het water", "?": "overig"
  };
  function letterFor(slug) {
    if (!slug) { return "?"; }
    return LETTERS[slug] || slug.charAt(0).toUpperCase();
  }
  function icon(status, late, mainSlug) {
    var pin = document.createElement("div");
    pin.className = "marker-pin st-" + status + (late ? " late" : "");
    pin.textContent = letterFor(mainSlug);
    return L.divIcon({ className: "marker-wrap", iconSize: [24, 24], iconAnchor: [12, 12], html: pin.outerHTML });
  }
  // PDOK's licence: every map names the Kadaster beside Leaflet's own attribution, tiles or not (the area
  // outlines come from PDOK too). A configured attribution is shown as given, Kadaster added when it lacks it.
  var KADASTER = 'Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a>';
  function attribute(map, configured) {
    var control = map.attributionControl || L.control.attribution().addTo(map);
    if (configured) { control.addAttribution(configured); }
    if (!configured || configured.indexOf("Kadaster") < 0) { control.addAttribution(KADASTER); }
  }
  function tiles(map, el) {
    if (el.dataset.tileUrl) { L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map); }
    attribute(map, el.dataset.tileAttribution || "");
  }
  window.MeldingenPins = { icon: icon, letterFor: letterFor, categoryName: function (l) { return NAMES[l] || ""; },
                           tiles: tiles, attribute: attribute };
})();
