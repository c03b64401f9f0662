// Foyer's small script. Everything works without it; it only adds conveniences.
(function () {
  "use strict";
  // A failed HTMX request (a server error, a session that ended) reloads the page,
  // which shows the error page or the sign-in form instead of doing nothing.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status !== 422 && xhr.status !== 507) {
      window.location.reload();
    }
  });
  // Copy buttons: <button data-copy="element-id"> copies that element's text,
  // a line per item of a list (innerText keeps the lines). Copy and Print
  // buttons marked hidden need this script: it shows them.
  document.querySelectorAll("button[data-copy][hidden], button[data-print][hidden]").forEach(function (b) {
    if (b.hasAttribute("data-print") || navigator.clipboard) b.hidden = false;
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-copy]");
    if (!b || !navigator.clipboard) return;
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (!el) return;
    navigator.clipboard.writeText((el.innerText || el.textContent).trim()).then(function () {
      b.setAttribute("aria-live", "polite");
      b.dataset.label = b.dataset.label || b.textContent;
      b.textContent = b.getAttribute("data-copied") || b.dataset.label;
      setTimeout(function () { b.textContent = b.dataset.label; }, 2000);
    });
  });
  // Print buttons: <button data-print> prints the page (the recovery sheet,
  // the register of processing).
  document.addEventListener("click", function (e) {
    if (e.target.closest("button[data-print]")) window.print();
  });
  // File inputs: the browser labels its own button in the browser's language,
  // not the page's. <input type="file" data-pick="…" data-none="…"> gets a
  // button and a file name in the page's language; the input itself stays
  // focusable and opens the picker from the keyboard.
  function pickers(root) {
  root.querySelectorAll("input[type=file][data-pick]:not(.sr-only)").forEach(function (input) {
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
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      name.textContent = names.length ? names.join(", ") : input.getAttribute("data-none");
    });
  });
  }
  pickers(document);
  // Content swapped in by HTMX (the Share documents dialog) gets the same file pickers.
  document.addEventListener("htmx:load", function (e) { pickers(e.target); });

  // Drag and drop: files dropped on a [data-dropzone] go into its file input.
  document.addEventListener("dragover", function (e) {
    var z = e.target.closest && e.target.closest("[data-dropzone]");
    if (!z) return;
    e.preventDefault();
    z.classList.add("dragging");
  });
  document.addEventListener("dragleave", function (e) {
    var z = e.target.closest && e.target.closest("[data-dropzone]");
    if (z) z.classList.remove("dragging");
  });
  document.addEventListener("drop", function (e) {
    var z = e.target.closest && e.target.closest("[data-dropzone]");
    if (!z) return;
    e.preventDefault();
    z.classList.remove("dragging");
    var input = z.querySelector("input[type=file]");
    if (input && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });

  // Uploads (form[data-upload]) go by XMLHttpRequest, for the progress bar; a
  // file over the limit is refused before anything is sent. Without JavaScript
  // the form posts as usual.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-upload]") || !window.FormData) return;
    if (e.submitter && e.submitter.hasAttribute("formaction")) return;
    var input = form.querySelector("input[type=file]");
    var err = form.querySelector("#e-files");
    var max = Number(form.getAttribute("data-max"));
    var files = input ? Array.prototype.slice.call(input.files) : [];
    var big = files.filter(function (f) { return f.size > max; });
    var refuse = "";
    if (big.length) {
      refuse = form.getAttribute("data-too-large").replace("{name}", big.map(function (f) { return f.name; }).join(", "));
    } else if (files.length > Number(form.getAttribute("data-max-files"))) {
      refuse = form.getAttribute("data-too-many");
    }
    if (refuse) {
      e.preventDefault();
      err.textContent = refuse;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    e.preventDefault();
    var bar = form.querySelector("progress");
    var box = bar && bar.parentElement;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=_csrf]").value);
    xhr.setRequestHeader("HX-Request", "true");
    if (box) box.hidden = false;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    xhr.upload.addEventListener("progress", function (p) {
      if (bar && p.lengthComputable) bar.value = Math.round(100 * p.loaded / p.total);
    });
    xhr.addEventListener("load", function () {
      var to = xhr.getResponseHeader("HX-Redirect");
      if (to) {
        // Same page with another #fragment: assign alone would only scroll.
        var here = window.location.pathname + window.location.search;
        window.location.assign(to);
        if (to.split("#")[0] === here) window.location.reload();
        return;
      }
      if (xhr.status === 422 || xhr.status === 408 || xhr.status === 507) {
        var dialog = form.closest("[role=dialog]");
        var holder = document.createElement("div");
        holder.innerHTML = xhr.responseText;
        var fresh = holder.querySelector("[role=dialog]");
        if (dialog && fresh) {
          dialog.replaceWith(fresh);
          if (window.htmx) window.htmx.process(fresh);
          pickers(fresh);
          var bad = fresh.querySelector("[aria-invalid=true]");
          if (bad) bad.focus();
          return;
        }
      }
      window.location.reload();
    });
    // The connection failed mid-way: say so and keep the form as it is, to try again.
    xhr.addEventListener("error", function () {
      if (box) box.hidden = true;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      err.textContent = form.getAttribute("data-stalled");
      input.setAttribute("aria-invalid", "true");
      input.focus();
    });
    xhr.send(new FormData(form));
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
