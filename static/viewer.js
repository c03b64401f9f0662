// The viewer's conveniences: arrow keys, Home/End and swipes move between
// slides (the links do the same without JavaScript), and the time spent on
// each slide is reported with navigator.sendBeacon when the slide is left.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var shown = Date.now(), sent = false;
  function report() {
    if (sent || !main.dataset.beacon || !navigator.sendBeacon) return;
    sent = true;
    var body = new URLSearchParams({ v: main.dataset.viewing, slide: main.dataset.slide, ms: String(Date.now() - shown) });
    navigator.sendBeacon(main.dataset.beacon, body);
  }
  function go(url) { if (url) { report(); window.location.href = url; } }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) return;
    var to = { ArrowRight: "next", ArrowLeft: "prev", PageDown: "next", PageUp: "prev", Home: "first", End: "last" }[e.key];
    if (to && main.dataset[to]) { e.preventDefault(); go(main.dataset[to]); }
  });
  var x0 = null, y0 = null;
  main.addEventListener("touchstart", function (e) { x0 = e.touches[0].clientX; y0 = e.touches[0].clientY; }, { passive: true });
  main.addEventListener("touchend", function (e) {
    if (x0 === null) return;
    var dx = e.changedTouches[0].clientX - x0, dy = e.changedTouches[0].clientY - y0;
    x0 = null;
    if (Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) go(main.dataset[dx < 0 ? "next" : "prev"]);
  }, { passive: true });
  document.querySelectorAll("a[rel=next], a[rel=prev]").forEach(function (a) { a.addEventListener("click", report); });
  window.addEventListener("pagehide", report);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { report(); }
    else if (sent) { sent = false; shown = Date.now(); }
  });
})();
