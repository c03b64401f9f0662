// Foyer's small script. Everything works without it; it only adds conveniences.
(function () {
  "use strict";
  // A failed HTMX request (a server error, a session that ended) reloads the page,
  // which shows the error page or the sign-in form instead of doing nothing.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status !== 422) {
      window.location.reload();
    }
  });
  // Copy buttons: <button data-copy="element-id"> copies that element's text.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-copy]");
    if (!b || !navigator.clipboard) return;
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (!el) return;
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      b.setAttribute("aria-live", "polite");
      b.dataset.label = b.dataset.label || b.textContent;
      b.textContent = b.getAttribute("data-copied") || b.dataset.label;
      setTimeout(function () { b.textContent = b.dataset.label; }, 2000);
    });
  });
  // File inputs: the browser labels its own button in the browser's language,
  // not the page's. <input type="file" data-pick="…" data-none="…"> gets a
  // button and a file name in the page's language; the input itself stays
  // focusable and opens the picker from the keyboard.
  document.querySelectorAll("input[type=file][data-pick]").forEach(function (input) {
    var pick = document.createElement("label");
    pick.htmlFor = input.id;
    pick.className = "button file-button";
    pick.setAttribute("aria-hidden", "true");
    pick.textContent = input.getAttribute("data-pick");
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = input.getAttribute("data-none");
    input.classList.add("sr-only");
    input.after(pick, name);
    input.addEventListener("change", function () {
      name.textContent = input.files.length ? input.files[0].name : input.getAttribute("data-none");
    });
  });
  // The header menu is a <details> that folds on phones; on a wide screen it is
  // always open (app.css hides its button there); back on a narrow one it folds again.
  var menu = document.querySelector("details.menu");
  if (menu && window.matchMedia) {
    var wide = window.matchMedia("(min-width: 75rem)");
    var sync = function () { menu.open = wide.matches; };
    if (wide.matches) sync();
    wide.addEventListener("change", sync);
  }
  // Escape closes a dialog opened over the prospects list and puts the focus back on the list.
  document.addEventListener("keydown", function (e) {
    var d = document.getElementById("dialog");
    if (e.key !== "Escape" || !d || !d.firstElementChild) return;
    d.replaceChildren();
    var back = document.querySelector(".prospect-form input[name=id]:checked, #prospect-results input");
    if (back) back.focus();
  });
})();
