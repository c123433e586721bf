/* Staff search and the heads' list: "select all" on the page for bulk actions, and short links (empty fields
   left out). Named filters are kept on the server (no script needed). No build step, no inline script (CSP). */
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("#bulk-form input[name=reference]").forEach(function (box) { box.checked = all.checked; });
    });
  }
  // Keep the link short: fields left empty stay out of the URL (the server reads a missing field as "all").
  var form = document.getElementById("search-form") || document.getElementById("filters");
  if (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (!field.value) { field.disabled = true; }
      });
    });
  }
})();
