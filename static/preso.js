// The preso screen's conveniences: the slide list can be reordered by dragging
// (the arrow buttons do the same without JavaScript), and the editor says when
// there are changes not saved yet.
(function () {
  "use strict";
  function wire(list) {
    if (!list || list.dataset.wired) return;
    list.dataset.wired = "1";
    var dragged = null;
    list.querySelectorAll("li[data-id]").forEach(function (li) {
      li.draggable = true;
      li.addEventListener("dragstart", function (e) {
        dragged = li;
        li.classList.add("dragging");
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/plain", li.dataset.id);
      });
      li.addEventListener("dragend", function () { li.classList.remove("dragging"); });
      li.addEventListener("dragover", function (e) {
        if (!dragged || dragged === li) return;
        e.preventDefault();
        var r = li.getBoundingClientRect();
        li.parentNode.insertBefore(dragged, e.clientY < r.top + r.height / 2 ? li : li.nextSibling);
      });
      li.addEventListener("drop", function (e) { e.preventDefault(); });
    });
    list.addEventListener("drop", function () {
      if (!dragged) return;
      dragged = null;
      var ids = Array.prototype.map.call(list.querySelectorAll("li[data-id]"), function (li) { return li.dataset.id; });
      var body = new URLSearchParams({ order: ids.join(","), _csrf: list.dataset.csrf });
      fetch(list.dataset.order, { method: "POST", body: body, credentials: "same-origin", redirect: "follow" })
        .then(function () { window.location.reload(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document.getElementById("slide-list")); });
  document.addEventListener("htmx:afterSettle", function () { wire(document.getElementById("slide-list")); });
  document.addEventListener("input", function (e) {
    var form = e.target.closest("#slide-form");
    var state = document.getElementById("save-state");
    if (form && state && state.dataset.unsaved) {
      state.textContent = state.dataset.unsaved;
      state.className = "save-state";
    }
  });
})();
