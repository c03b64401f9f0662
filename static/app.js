// Foyer's small script. Everything works without it; it only improves HTMX feedback.
(function () {
  "use strict";
  // A failed HTMX request (network down, server error) tells the user instead of doing nothing.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status !== 422) {
      window.location.reload();
    }
  });
})();
