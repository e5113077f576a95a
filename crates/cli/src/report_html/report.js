// ratcatcher HTML case report: sorting and filtering of the alert table (the page is complete
// without this script; it adds no content and loads nothing).
(function () {
  "use strict";
  var table = document.getElementById("alert-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var controls = document.querySelector(".controls");
  var filter = document.getElementById("filter");
  var sev = document.getElementById("sevfilter");
  var shown = document.getElementById("shown");
  if (controls) { controls.hidden = false; }

  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-sort");
    return v !== null ? v : cell.textContent.toLowerCase();
  }

  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (th, col) {
    th.tabIndex = 0;
    function sort() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var order = rows.map(function (r, i) { return { r: r, k: key(r, col), i: i }; });
      order.sort(function (a, b) {
        if (a.k < b.k) { return asc ? -1 : 1; }
        if (a.k > b.k) { return asc ? 1 : -1; }
        return a.i - b.i;
      });
      order.forEach(function (o) { body.appendChild(o.r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });

  function apply() {
    var text = filter ? filter.value.trim().toLowerCase() : "";
    var level = sev ? sev.value : "";
    var n = 0;
    rows.forEach(function (r) {
      var ok = (!level || r.getAttribute("data-severity") === level) &&
        (!text || r.textContent.toLowerCase().indexOf(text) >= 0);
      r.hidden = !ok;
      if (ok) { n += 1; }
    });
    if (shown) { shown.textContent = n + " of " + rows.length + " alerts shown"; }
  }
  if (filter) { filter.addEventListener("input", apply); }
  if (sev) { sev.addEventListener("change", apply); }
  apply();

  // Print every investigation guide, and put them back as they were afterwards.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = [];
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      if (!d.open) { d.open = true; opened.push(d); }
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
