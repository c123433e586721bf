/* One report: the small map of the spot, standard texts that fill the message to residents, and the confirmation
   of a status change that messages residents or cancels the report, with the exact message, before it is made. */
(function () {
  "use strict";
  var spot = document.getElementById("spot-map");
  if (spot && window.L && window.MeldingenPins) {
    var at = [parseFloat(spot.dataset.lat), parseFloat(spot.dataset.lon)];
    var map = L.map(spot, { zoomControl: true, scrollWheelZoom: false, maxZoom: 19 }).setView(at, 17);
    MeldingenPins.tiles(map, spot);
    L.marker(at, { icon: MeldingenPins.icon(spot.dataset.status, spot.dataset.late === "true", spot.dataset.category),
                   keyboard: false }).addTo(map);
    L.circle(at, { radius: 25, color: "#13294b", weight: 1, fill: false, dashArray: "3 3" }).addTo(map);
    spot.classList.add("loaded");
  }

  var form = document.getElementById("status-form");
  if (!form) { return; }
  // Back from a status change the page opens at the form (#status-update): what the change did is said there,
  // not only at the top of the page.
  if (window.location.hash === "#status-update") {
    var section = document.getElementById("status-update");
    document.querySelectorAll("main > .flash").forEach(function (flash) {
      section.insertBefore(flash, section.querySelector("h2").nextSibling);
    });
  }
  var toResident = document.getElementById("to-resident");
  var box = document.getElementById("resident-message");
  var message = form.querySelector("textarea[name=resident_message]");
  function showBox() { box.hidden = !toResident.checked; }
  toResident.addEventListener("change", showBox);
  showBox();
  var picker = document.getElementById("standard-text");
  if (picker) {
    picker.addEventListener("change", function () {
      if (picker.value) { message.value = picker.value; toResident.checked = true; showBox(); }
    });
  }

  // A change that messages residents or cancels the report is confirmed as what it is, in a dialog saying so
  // ("De melding wordt afgehandeld en 3 melders krijgen dit bericht."). Without the dialog (no JavaScript, an
  // old browser, a failed preview) the server asks instead: it never makes such a change unconfirmed.
  var dialog = document.getElementById("preview-dialog");
  var confirmed = false;
  var pending = null;
  function needsConfirmation(button) {
    if (!button || !button.value) { return false; }
    return button.dataset.confirm === "1" || (toResident.checked && message.value.trim() !== "");
  }
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.value) { event.preventDefault(); return; }  // never a status change by implicit submit
    if (confirmed || !needsConfirmation(button) || !dialog || !dialog.showModal) { return; }
    event.preventDefault();
    pending = button;
    var url = new URL(form.dataset.previewUrl, window.location.href);
    var written = toResident.checked ? message.value : "";
    url.searchParams.set("status", button.value);
    url.searchParams.set("message", written);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .catch(function () {
        // No signal (or no answer): confirm from what the page already knows; the exact text is not shown.
        var summary = written.trim() ? button.dataset.summaryMessage : button.dataset.summary;
        if (!summary) { throw new Error("no summary"); }
        return { summary: summary + " (Geen verbinding: de wijziging wordt bewaard en verstuurd zodra er weer " +
                 "verbinding is.)", residents: 0, previews: [] };
      })
      .then(function (data) {
        document.getElementById("preview-summary").textContent = data.summary;
        document.getElementById("preview-action").textContent =
          (data.residents ? "versturen en " : "") + "‘" + button.textContent.trim() + "’ opslaan";
        var holder = document.getElementById("preview-texts");
        holder.textContent = "";
        data.previews.forEach(function (p) {
          if (!p.residents) { return; }
          var head = document.createElement("h3");
          head.textContent = (p.language === "en" ? "Engels" : "Nederlands") + " · " + p.residents +
            (p.residents === 1 ? " melder" : " melders");
          var text = document.createElement("pre");
          text.className = "message-preview";
          text.textContent = p.text;
          holder.appendChild(head);
          holder.appendChild(text);
        });
        dialog.showModal();
        document.getElementById("preview-send").focus();
      })
      .catch(function () { confirmed = true; form.requestSubmit(pending); });  // the server asks instead
  });
  document.getElementById("preview-send").addEventListener("click", function () {
    var flag = document.createElement("input");
    flag.type = "hidden"; flag.name = "confirmed"; flag.value = "1";
    form.appendChild(flag);
    confirmed = true;
    dialog.close();
    form.requestSubmit(pending);
  });
  document.getElementById("preview-cancel").addEventListener("click", function () {
    dialog.close();
    if (pending) { pending.focus(); }
  });
})();
