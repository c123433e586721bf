/* The field map: street tiles (PDOK by default) with area outlines (usable without tiles), the team's open
   reports as pins coloured by status as the legend says (late: a red ring, letter: main category), clustered with
   their count wherever they would overlap; a marker opens the report page. No build step. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomControl: true, maxZoom: 19 }).setView([52.2, 5.3], 8);
  MeldingenPins.tiles(map, el);
  var lettersShown = {};
  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/geo+json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }
  var areas = L.geoJSON(null, {
    style: function (f) {
      return f.properties.level === "municipality"
        ? { color: "#13294b", weight: 2, fill: true, fillOpacity: 0.04 }
        : { color: "#5a6b85", weight: 1, dashArray: "4 3", fill: false };
    },
    onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
  }).addTo(map);
  // Clustered at every zoom wherever pins would overlap (a pin is 24 px; 40 px keeps them apart with room to tap),
  // each cluster showing how many reports it holds; at the closest zoom reports at one spot fan out when tapped.
  var cluster = L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false,
                                                                 spiderfyOnMaxZoom: true })
                                     : L.layerGroup();
  cluster.addTo(map);
  var reportUrl = el.dataset.reportUrl;
  function marker(feature, latlng) {
    var p = feature.properties;
    lettersShown[MeldingenPins.letterFor(p.main_category)] = true;
    var icon = MeldingenPins.icon(p.status, p.late, p.main_category);
    var m = L.marker(latlng, { icon: icon, title: p.reference + " " + p.category + " · " + p.status_name +
                                                 (p.late ? " · te laat" : ""), alt: p.reference });
    var link = document.createElement("a");
    link.href = reportUrl.replace("REF", encodeURIComponent(p.reference));
    link.textContent = p.category + " (" + p.reference + ")";
    var box = document.createElement("div");
    box.appendChild(link);
    var meta = document.createElement("div");
    meta.textContent = p.status_name + (p.late ? " · te laat" : "") + (p.reporters > 1 ? " · " + p.reporters + " melders" : "");
    box.appendChild(meta);
    m.bindPopup(box);
    m.on("dblclick", function () { window.location.href = link.href; });
    return m;
  }
  function showCategoryLetters() {
    var legend = document.getElementById("legend-categories");
    if (!legend) { return; }
    Object.keys(lettersShown).sort().forEach(function (letter) {
      var item = document.createElement("span");
      item.className = "legend-letter";
      var pin = document.createElement("b");
      pin.textContent = letter;
      item.appendChild(pin);
      item.appendChild(document.createTextNode(" " + MeldingenPins.categoryName(letter)));
      legend.appendChild(item);
    });
  }
  var bounds = null, areaBounds = null;  // fit to the reports when there are any, else to the area
  Promise.all([
    fetchJSON(el.dataset.areasUrl).then(function (data) {
      areas.addData(data);
      if (data.features.length) { areaBounds = areas.getBounds(); }
    }).catch(function () {}),
    fetchJSON(el.dataset.reportsUrl).then(function (data) {
      var layer = L.geoJSON(data, { pointToLayer: marker });
      cluster.addLayer(layer);
      el.dataset.markers = String(data.features.length);
      showCategoryLetters();
      if (data.features.length) { bounds = layer.getBounds(); }
    })
  ]).then(function () {
    var target = bounds || areaBounds;
    if (target && target.isValid()) { map.fitBounds(target.pad(0.1), { maxZoom: 17 }); }
    el.classList.add("loaded");
  }).catch(function () { el.classList.add("failed"); });

  var sortLink = document.getElementById("sort-distance");
  if (sortLink && navigator.geolocation) {
    sortLink.addEventListener("click", function (event) {
      event.preventDefault();
      navigator.geolocation.getCurrentPosition(function (pos) {
        var url = new URL(sortLink.href, window.location.href);
        url.searchParams.set("lat", pos.coords.latitude.toFixed(5));
        url.searchParams.set("lon", pos.coords.longitude.toFixed(5));
        window.location.href = url.toString();
      }, function () { window.location.href = sortLink.href; }, { timeout: 8000 });
    });
  }
})();
