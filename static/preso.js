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
// The sharing box: copy a link to the clipboard, and copy it at once after
// Create link or Refresh link. When the browser refuses, the link is selected
// and the box says how to copy it by hand.
(function () {
  "use strict";
  function copy(input) {
    var state = document.getElementById("copy-state");
    function say(msg) { if (state && msg) state.textContent = msg; }
    function refused() {
      input.classList.remove("sr-only");
      input.removeAttribute("aria-hidden");
      input.focus();
      input.select();
      say(input.getAttribute("data-refused") || document.getElementById("share-link").getAttribute("data-refused"));
    }
    var copied = input.getAttribute("data-copied") || (document.getElementById("share-link") || input).getAttribute("data-copied");
    if (!navigator.clipboard || !window.isSecureContext) { refused(); return; }
    navigator.clipboard.writeText(input.value).then(function () { say(copied); }, refused);
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-copy-input]");
    if (!b) return;
    var input = document.getElementById(b.getAttribute("data-copy-input"));
    if (input) copy(input);
  });
  // The sharing box swapped in (in the dialog, or on its own page opened in
  // a tab) takes the focus, and copies a link just made.
  function opened() {
    var dialog = document.getElementById("dialog");
    var box = (dialog || document).querySelector(".share-box");
    if (!box) return;
    box.focus();
    var link = document.getElementById("share-link");
    if (link && link.dataset.autocopy) copy(link);
  }
  document.addEventListener("htmx:afterSettle", opened);
  document.addEventListener("DOMContentLoaded", function () {
    var link = document.getElementById("share-link");
    if (link && link.dataset.autocopy) copy(link);
  });
  // A click on "Close" inside the dialog closes it without leaving the page.
  document.addEventListener("click", function (e) {
    var a = e.target.closest("#dialog a.close-dialog");
    if (!a) return;
    e.preventDefault();
    document.getElementById("dialog").replaceChildren();
    var b = document.querySelector(".share-button");
    if (b) b.focus();
  });
})();
