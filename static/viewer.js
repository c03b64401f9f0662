// The viewer's conveniences: arrow keys, Home/End and swipes move between
// slides (the links do the same without JavaScript), and the time spent on
// each slide is reported with navigator.sendBeacon when the slide is left.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var shown = Date.now(), sent = false;
  function timed() {
    return new URLSearchParams({ v: main.dataset.viewing, slide: main.dataset.slide, ms: String(Date.now() - shown), _csrf: main.dataset.csrf });
  }
  function report() {
    if (sent || !main.dataset.beacon || !navigator.sendBeacon) return;
    sent = true;
    navigator.sendBeacon(main.dataset.beacon, timed());
  }
  // "Change person" ends the session the beacon needs: the time on this
  // slide is reported first, then the form goes.
  document.querySelectorAll("form.v-leave").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (sent || !main.dataset.beacon || !window.fetch) return;
      e.preventDefault();
      sent = true;
      fetch(main.dataset.beacon, { method: "POST", body: timed(), keepalive: true, credentials: "same-origin" })
        .catch(function () {}).then(function () { f.submit(); });
    });
  });
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
// The signing pad: drawing with a finger, a pen or a mouse fills the hidden
// "drawing" field with a PNG. Without JavaScript the pad stays hidden and the
// signer ticks "typed name only".
(function () {
  "use strict";
  var pad = document.querySelector("[data-pad]");
  if (!pad) return;
  pad.hidden = false;
  var canvas = pad.querySelector("canvas"), field = pad.querySelector("input[name=drawing]");
  var ctx = canvas.getContext("2d"), drawing = false, last = null, inked = false;
  ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.strokeStyle = "#1d2327";
  function at(e) {
    var r = canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
  }
  canvas.addEventListener("pointerdown", function (e) { drawing = true; last = at(e); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", function (e) {
    if (!drawing) return;
    var p = at(e);
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
    last = p; inked = true;
  });
  function end() { if (drawing && inked) field.value = canvas.toDataURL("image/png"); drawing = false; }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  pad.querySelector("[data-pad-clear]").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height); field.value = ""; inked = false;
  });
})();
