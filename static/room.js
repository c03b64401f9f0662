// The video room: camera and microphone, the signalling WebSocket, and one
// RTCPeerConnection to the other party. Foyer relays the signalling only; the
// media go browser to browser (or through the practice's TURN relay).
//
// The practitioner's browser always makes the offers: on "ready" (both in the
// room, the client admitted) both sides start a fresh connection, and when the
// network drops while the WebSocket stays up, an ICE restart mends it.
(function () {
  "use strict";
  var root = document.getElementById("room");
  if (!root) return;
  var practitioner = root.dataset.role === "practitioner";
  var msgs = {};
  document.querySelectorAll("#room-msgs [data-msg]").forEach(function (e) { msgs[e.dataset.msg] = e.textContent; });
  var $ = function (id) { return document.getElementById(id); };
  var localVideo = $("local-video"), remoteVideo = $("remote-video"), remoteNote = $("remote-note");
  var statusEl = $("room-status"), problem = $("room-problem");
  var btnStart = $("room-start"), btnMute = $("room-mute"), btnCamera = $("room-camera"), btnLeave = $("room-leave");
  var knock = $("room-knock"), btnAdmit = $("room-admit"), btnRetry = $("room-retry");

  var stream = null, pc = null, ws = null, iceServers = [];
  var over = false, retries = 0, restartTimer = null;
  // For the browser tests and for support: the live connection, and the two
  // ways back from a network drop, to try them without cutting the network.
  window.foyerRoom = {
    pc: function () { return pc; },
    restart: function () { restartICE(); },
    dropSocket: function () { if (ws) ws.close(); }
  };

  function status(text) { statusEl.textContent = text; }

  function show(el, on) { el.hidden = !on; }

  // browserHelp picks the instructions that match this browser.
  function browserHelp() {
    var ua = navigator.userAgent;
    if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) return msgs.help_ios;
    if (/Android/.test(ua)) return msgs.help_android;
    if (/Edg\//.test(ua)) return msgs.help_edge;
    if (/Firefox\//.test(ua)) return msgs.help_firefox;
    if (/Chrome\/|Chromium\//.test(ua)) return msgs.help_chrome;
    if (/Safari\//.test(ua)) return msgs.help_safari;
    return msgs.help_other;
  }

  function fail(key, withHelp) {
    $("room-problem-text").textContent = msgs[key];
    $("room-problem-help").textContent = withHelp ? browserHelp() : "";
    show(problem, true);
    show(btnStart, false);
    status("");
    problem.scrollIntoView({ block: "nearest" });
  }

  // start asks for the camera and microphone, then enters the room.
  function start() {
    show(problem, false);
    if (!window.RTCPeerConnection || !window.WebSocket) return fail("err_unsupported", false);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return fail(window.isSecureContext ? "err_unsupported" : "err_insecure", false);
    }
    btnStart.disabled = true;
    status(msgs.connecting);
    var video = { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } };
    navigator.mediaDevices.getUserMedia({ audio: true, video: video }).catch(function (err) {
      if (err && (err.name === "NotFoundError" || err.name === "OverconstrainedError")) {
        // No camera: sound alone is still a session.
        return navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
          remoteNote.textContent = msgs.audio_only;
          show(remoteNote, true);
          return s;
        });
      }
      throw err;
    }).then(function (s) {
      stream = s;
      localVideo.srcObject = s;
      show(btnStart, false);
      show(btnMute, s.getAudioTracks().length > 0);
      show(btnCamera, s.getVideoTracks().length > 0);
      show(btnLeave, true);
      connect();
    }).catch(function (err) {
      btnStart.disabled = false;
      var name = err && err.name;
      if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return fail("err_denied", true);
      if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return fail("err_missing", false);
      if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return fail("err_busy", false);
      fail("err_failed", false);
    });
  }

  function send(m) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + root.dataset.socket);
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      handle(m);
    };
    ws.onclose = function () {
      ws = null;
      if (over) return;
      // The network dropped (or the server restarted): come back, a little
      // later each time. The room takes us back without a new admission.
      status(msgs.reconnecting);
      retries++;
      setTimeout(connect, Math.min(1000 * Math.pow(2, retries - 1), 10000));
    };
  }

  function handle(m) {
    switch (m.type) {
      case "welcome":
        iceServers = m.iceServers || [];
        retries = 0;
        status(practitioner ? msgs.waiting_staff : msgs.connecting);
        break;
      case "waiting":
        status(m.present ? msgs.waiting_admit : msgs.waiting_arrive);
        break;
      case "knock":
        // The knock box is an alert: it is announced, the status need not repeat it.
        show(knock, true);
        status("");
        chime();
        break;
      case "admitted":
        status(msgs.admitted);
        break;
      case "ready":
        show(knock, false);
        fresh();
        if (practitioner) offer(false);
        break;
      case "offer":
        if (!pc) fresh();
        pc.setRemoteDescription({ type: "offer", sdp: m.sdp })
          .then(function () { return pc.createAnswer(); })
          .then(function (a) { return pc.setLocalDescription(a); })
          .then(function () { send({ type: "answer", sdp: pc.localDescription.sdp }); })
          .catch(function () {});
        break;
      case "answer":
        if (pc) pc.setRemoteDescription({ type: "answer", sdp: m.sdp }).catch(function () {});
        break;
      case "candidate":
        if (pc && m.candidate) pc.addIceCandidate(m.candidate).catch(function () {});
        break;
      case "restart":
        if (pc && practitioner) offer(true);
        break;
      case "media":
        var notes = [];
        if (m.audio === false) notes.push(msgs.remote_muted);
        if (m.video === false) notes.push(msgs.remote_camera_off);
        remoteNote.textContent = notes.join(" ");
        show(remoteNote, notes.length > 0);
        break;
      case "peer-left":
        closePC();
        show(knock, false);
        show(remoteNote, false);
        status(m.reason === "left" ? msgs.peer_left : msgs.peer_dropped);
        break;
      case "closed":
        end(msgs["closed_" + m.reason] || msgs.closed_ended);
        break;
    }
  }

  // fresh starts a new peer connection with our tracks.
  function fresh() {
    closePC();
    pc = new RTCPeerConnection({ iceServers: iceServers });
    stream.getTracks().forEach(function (t) { pc.addTrack(t, stream); });
    pc.ontrack = function (ev) {
      if (remoteVideo.srcObject !== ev.streams[0]) remoteVideo.srcObject = ev.streams[0];
    };
    pc.onicecandidate = function (ev) {
      send({ type: "candidate", candidate: ev.candidate ? ev.candidate.toJSON() : null });
    };
    var mine = pc;
    pc.onconnectionstatechange = function () {
      if (pc !== mine) return;
      var s = pc.connectionState;
      if (s === "connected") {
        status(msgs.connected);
        sendMedia();
      } else if (s === "disconnected" || s === "failed") {
        status(msgs.reconnecting);
        // Give a short blip the chance to mend itself, then restart ICE.
        clearTimeout(restartTimer);
        restartTimer = setTimeout(function () {
          if (pc === mine && pc.connectionState !== "connected") restartICE();
        }, s === "failed" ? 0 : 2000);
      }
    };
  }

  function restartICE() {
    if (practitioner) offer(true);
    else send({ type: "restart" });
  }

  function offer(restart) {
    if (!pc) fresh();
    pc.createOffer({ iceRestart: restart })
      .then(function (o) { return pc.setLocalDescription(o); })
      .then(function () { send({ type: "offer", sdp: pc.localDescription.sdp }); })
      .catch(function () {});
  }

  function closePC() {
    clearTimeout(restartTimer);
    if (pc) { pc.close(); pc = null; }
    remoteVideo.srcObject = null;
  }

  function end(text) {
    over = true;
    closePC();
    if (ws) ws.close();
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    localVideo.srcObject = null;
    [btnMute, btnCamera, btnLeave, knock, remoteNote, btnStart].forEach(function (b) { show(b, false); });
    status(text);
  }

  function sendMedia() {
    if (!stream) return;
    var a = stream.getAudioTracks()[0], v = stream.getVideoTracks()[0];
    send({ type: "media", audio: a ? a.enabled : false, video: v ? v.enabled : false });
  }

  // chime tells the practitioner someone is waiting: two soft notes, made
  // here so the room needs no sound file.
  function chime() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    try {
      var ctx = new AC(), t = ctx.currentTime;
      [660, 880].forEach(function (f, i) {
        var o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = f;
        g.gain.setValueAtTime(0.0001, t + i * 0.25);
        g.gain.exponentialRampToValueAtTime(0.2, t + i * 0.25 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.25 + 0.4);
        o.connect(g).connect(ctx.destination);
        o.start(t + i * 0.25);
        o.stop(t + i * 0.25 + 0.45);
      });
      setTimeout(function () { ctx.close(); }, 1500);
    } catch (e) { /* no sound is no reason to fail */ }
  }

  btnStart.addEventListener("click", start);
  btnRetry.addEventListener("click", start);
  btnAdmit.addEventListener("click", function () {
    send({ type: "admit" });
    show(knock, false);
    status(msgs.connecting);
  });
  btnMute.addEventListener("click", function () {
    var t = stream.getAudioTracks()[0];
    t.enabled = !t.enabled;
    btnMute.textContent = t.enabled ? msgs.mute : msgs.unmute;
    sendMedia();
  });
  btnCamera.addEventListener("click", function () {
    var t = stream.getVideoTracks()[0];
    t.enabled = !t.enabled;
    btnCamera.textContent = t.enabled ? msgs.camera_off : msgs.camera_on;
    sendMedia();
  });
  btnLeave.addEventListener("click", function () {
    send({ type: "leave" });
    end(msgs.you_left);
  });
  window.addEventListener("pagehide", function () { send({ type: "leave" }); });

  var attended = $("room-attended");
  if (attended) {
    attended.addEventListener("submit", function (ev) {
      // Marked without leaving the page, which would end the call.
      ev.preventDefault();
      var csrf = attended.querySelector("[name=_csrf]").value;
      fetch(attended.action, { method: "POST", headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          attended.replaceChildren(Object.assign(document.createElement("p"), { textContent: msgs.attended_done }));
        })
        .catch(function () { status(msgs.attended_failed); });
    });
  }
})();
