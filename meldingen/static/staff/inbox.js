/* The shared inbox without reloading: the list refreshes itself, a conversation shows the resident's new messages
   (photos and places included) as they come, and a shared place gets a small map. Short polling, bounded: it
   pauses while the tab is hidden and slows down after errors. */
(function () {
  "use strict";
  var LIST_MS = 8000, MESSAGES_MS = 4000, MAX_MS = 60000;

  function drawMaps(root) {
    var holder = document.getElementById("messages") || { dataset: {} };  // carries the tile settings
    if (!window.L) { return; }
    root.querySelectorAll(".msg-map:not(.leaflet-container)").forEach(function (el) {
      var point = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
      var map = L.map(el, { zoomControl: false, dragging: false, scrollWheelZoom: false }).setView(point, 17);
      if (window.MeldingenPins) { MeldingenPins.tiles(map, holder); }
      L.circleMarker(point, { radius: 7, color: "#c0392b", fillColor: "#c0392b", fillOpacity: 0.9 }).addTo(map);
    });
  }

  function poll(url, every, handle) {
    var delay = every;
    function tick() {
      if (document.hidden) { return setTimeout(tick, every); }
      fetch(url(), { credentials: "same-origin", headers: { "Accept": "application/json, text/html" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return handle(r); })
        .then(function () { delay = every; }, function () { delay = Math.min(delay * 2, MAX_MS); })
        .then(function () { setTimeout(tick, delay); });
    }
    setTimeout(tick, every);
  }

  var list = document.getElementById("inbox-list");
  if (list) {
    poll(function () { return list.dataset.pollUrl; }, LIST_MS, function (r) {
      return r.text().then(function (html) { if (html.trim() !== list.innerHTML.trim()) { list.innerHTML = html; } });
    });
  }

  var messages = document.getElementById("messages");
  if (messages) {
    drawMaps(messages);
    poll(function () { return messages.dataset.pollUrl + "?after=" + messages.dataset.lastId; }, MESSAGES_MS, function (r) {
      return r.json().then(function (body) {
        if (!body.messages.length) { return; }
        var empty = document.getElementById("no-messages");
        if (empty) { empty.remove(); }
        body.messages.forEach(function (m) {
          if (messages.querySelector('[data-id="' + m.id + '"]')) { return; }
          var holder = document.createElement("ol");
          holder.innerHTML = m.html;
          var item = holder.firstElementChild;
          item.classList.add("new");
          messages.appendChild(item);
        });
        messages.dataset.lastId = body.last_id;
        // The agent has now seen these: a reply is about what is on the screen.
        var seen = document.querySelector("form.reply input[name=last_message_id]");
        if (seen) { seen.value = body.last_id; }
        drawMaps(messages);
      });
    });
  }

  // Standard replies: put the text in the reply box where the cursor is, keeping what was typed (without
  // JavaScript the link opens the page with the text in the box).
  var body = document.getElementById("reply-body");
  var touched = false;  // the box keeps its cursor when the link takes the focus; before any use: at the end
  if (body) { body.addEventListener("focus", function () { touched = true; }); }
  document.querySelectorAll("a.reply-text").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!body) { return; }
      event.preventDefault();
      var text = link.dataset.text, start = body.selectionStart, end = body.selectionEnd;
      if (typeof start !== "number" || !touched) { start = end = body.value.length; }
      var before = body.value.slice(0, start), after = body.value.slice(end);
      var glue = before && !/\s$/.test(before) ? " " : "";
      body.value = before + glue + text + after;
      body.focus();
      var at = (before + glue + text).length;
      body.setSelectionRange(at, at);
    });
  });
})();
