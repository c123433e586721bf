/* Staff search: "select all" for bulk actions, and searches kept as named filters in this browser (the filter
   itself is the link: its URL holds every field). No build step, no inline script (CSP). */
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("#bulk-form input[name=reference]").forEach(function (box) { box.checked = all.checked; });
    });
  }
  // Keep the link short: fields left empty stay out of the URL (the server reads a missing field as "all").
  var form = document.getElementById("search-form");
  if (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (!field.value) { field.disabled = true; }
      });
    });
  }
  var KEY = "meldingen.savedSearches";
  var list = document.getElementById("saved-searches");
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function render() {
    var saved = load();
    if (!list) { return; }
    list.textContent = "";
    list.hidden = saved.length === 0;
    saved.forEach(function (item, i) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url; a.textContent = item.name;
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "link"; remove.textContent = "×";
      remove.setAttribute("aria-label", "verwijder " + item.name);
      remove.addEventListener("click", function () { saved.splice(i, 1); localStorage.setItem(KEY, JSON.stringify(saved)); render(); });
      li.appendChild(a); li.appendChild(remove); list.appendChild(li);
    });
  }
  var save = document.getElementById("save-search");
  if (save) {
    save.addEventListener("click", function () {
      var name = window.prompt("Naam van dit filter", "");
      if (!name) { return; }
      var saved = load().filter(function (s) { return s.url !== save.dataset.url; });
      saved.unshift({ name: name.slice(0, 60), url: save.dataset.url });
      localStorage.setItem(KEY, JSON.stringify(saved.slice(0, 20)));
      render();
    });
  }
  render();
})();
