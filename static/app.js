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
})();
