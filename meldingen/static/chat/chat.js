// The website chat: a signed session from /chat/api/sessions, messages posted to /chat/api/messages,
// replies polled from the same endpoint. The intake behind it is the one every chat platform uses.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  var list = document.getElementById("messages");
  var statusLine = document.getElementById("chat-status");
  var textInput = document.getElementById("text-input");
  var photoInput = document.getElementById("photo-input");
  var mapPanel = document.getElementById("map-panel");
  var sendPin = document.getElementById("send-pin");
  var STORE = "meldingen-chat";
  var state = { session: null, after: 0, map: null, pin: null, polling: null };

  function saved() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    try { window.localStorage.setItem(STORE, JSON.stringify({ session: state.session })); } catch (e) { /* private mode */ }
  }
  function messageId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "m" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function say(text) { statusLine.textContent = text || ""; }

  function add(direction, text, extra) {
    var item = document.createElement("li");
    item.className = direction;
    if (extra && extra.image) {
      var img = document.createElement("img");
      img.src = extra.image; img.alt = "Uw foto";
      item.appendChild(img);
    }
    if (text) { item.appendChild(document.createTextNode(text)); }
    if (extra && extra.buttons && extra.buttons.length) {
      var choices = document.createElement("div");
      choices.className = "choices";
      extra.buttons.forEach(function (button) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "secondary"; b.textContent = button.title;
        b.addEventListener("click", function () {
          choices.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          add("in", button.title);
          post({ reply: { id: button.id, title: button.title } });
        });
        choices.appendChild(b);
      });
      item.appendChild(choices);
    }
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function request(method, url, body, isForm) {
    var headers = { "X-Chat-Session": state.session };
    var options = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      if (isForm) { options.body = body; } else { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var error = new Error(data.error || ("HTTP " + response.status)); error.status = response.status; throw error; }
        return data;
      });
    });
  }

  function startSession() {
    var known = saved().session;
    if (known) { state.session = known; return Promise.resolve(); }
    return fetch("/chat/api/sessions", { method: "POST", credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { state.session = data.session; save(); });
  }

  function post(body, tries) {
    body.id = body.id || messageId();  // the same id on a retry: the server stores it once
    tries = tries || 0;
    say("Versturen…");
    return request("POST", "/chat/api/messages", body).then(function () { say(""); poll(); })
      .catch(function (error) {
        if (error.status === 403 && tries === 0) {
          state.session = null; save();
          return startSession().then(function () { return post(body, 1); });
        }
        if (!error.status && tries < 3) { return new Promise(function (r) { setTimeout(r, 1500); }).then(function () { return post(body, tries + 1); }); }
        say("Versturen is niet gelukt: " + error.message);
      });
  }

  function poll() {
    return request("GET", "/chat/api/messages?after=" + state.after).then(function (data) {
      (data.messages || []).forEach(function (m) {
        state.after = Math.max(state.after, m.id);
        add("out", m.text, { buttons: m.buttons });
      });
    }).catch(function () { /* next poll */ });
  }

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textInput.value.trim();
    if (!text) { return; }
    textInput.value = "";
    add("in", text);
    post({ text: text });
  });

  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    if (!file) { return; }
    var form = new FormData();
    var id = messageId();
    form.append("id", id);
    form.append("file", file, file.name || "foto.jpg");
    var caption = textInput.value.trim();
    if (caption) { form.append("text", caption); textInput.value = ""; }
    add("in", caption, { image: URL.createObjectURL(file) });
    say("Foto versturen…");
    request("POST", "/chat/api/messages", form, true).then(function () { say(""); poll(); })
      .catch(function (error) { say("De foto is niet verstuurd: " + error.message); });
    photoInput.value = "";
  });

  function sendLocation(lat, lon, how) {
    add("in", how + " (" + lat.toFixed(5) + ", " + lon.toFixed(5) + ")");
    post({ location: { lat: lat, lon: lon } });
  }

  document.getElementById("share-location").addEventListener("click", function () {
    if (!navigator.geolocation) { say("Uw browser kan de locatie niet delen. Kies de plek op de kaart."); return; }
    say("Locatie opvragen…");
    navigator.geolocation.getCurrentPosition(function (position) {
      say("");
      sendLocation(position.coords.latitude, position.coords.longitude, "📍 Mijn locatie");
    }, function () { say("De locatie is niet gedeeld. Kies de plek op de kaart of typ het adres."); },
    { enableHighAccuracy: true, timeout: 15000 });
  });

  function openMap() {
    mapPanel.hidden = false;
    if (state.map) { state.map.invalidateSize(); return; }
    state.map = L.map("map");
    var box = (root.getAttribute("data-map-bounds") || "").split(",").map(parseFloat);
    if (box.length === 4 && box.every(function (v) { return !isNaN(v); })) {  // the municipality of this page
      state.map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { animate: false });
    } else {
      state.map.setView([52.2, 5.3], 7);
    }
    window.chatTestHooks = { map: state.map };  // lets a browser test centre the map before it taps
    var tiles = root.getAttribute("data-tile-url");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(state.map); }
    // PDOK's licence: the Kadaster named beside Leaflet's attribution, as on every staff map (pins.js).
    var credit = root.getAttribute("data-tile-attribution") || "";
    if (credit) { state.map.attributionControl.addAttribution(credit); }
    if (credit.indexOf("Kadaster") < 0) {
      state.map.attributionControl.addAttribution('Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a>');
    }
    state.map.on("click", function (event) {
      if (state.pin) { state.pin.setLatLng(event.latlng); } else { state.pin = L.marker(event.latlng).addTo(state.map); }
      sendPin.disabled = false;
    });
  }
  document.getElementById("open-map").addEventListener("click", openMap);
  document.getElementById("close-map").addEventListener("click", function () { mapPanel.hidden = true; });
  sendPin.addEventListener("click", function () {
    if (!state.pin) { return; }
    var at = state.pin.getLatLng();
    sendLocation(at.lat, at.lng, "📍 Plek op de kaart");
    mapPanel.hidden = true;
    sendPin.disabled = true;
  });

  startSession().then(function () {
    say("");
    poll();
    state.polling = setInterval(poll, 1500);
    if (!saved().greeted) {
      add("out", "Hallo! Stuur een foto, deel de plek (of kies die op de kaart) en beschrijf kort wat er aan de hand is.");
    }
  }).catch(function () { say("De chat kan nu niet starten. Probeer het later opnieuw."); });
})();
