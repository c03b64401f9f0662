// The video room: a device check, the signalling WebSocket, and one
// RTCPeerConnection to the other party. Foyer relays the signalling only; the
// media go browser to browser (or through the practice's TURN relay).
//
// The practitioner's browser always makes the offers: on "ready" (both in the
// room, the client admitted) both sides start a fresh connection, and when the
// network drops while the WebSocket stays up, an ICE restart mends it.
// Every device change (another camera, a headset, the screen) swaps a track
// on its sender (replaceTrack): no new negotiation, no interruption.
(function () {
  "use strict";
  var root = document.getElementById("room");
  if (!root) return;
  var practitioner = root.dataset.role === "practitioner";
  var msgs = {};
  document.querySelectorAll("#room-msgs [data-msg]").forEach(function (e) { msgs[e.dataset.msg] = e.textContent; });
  var $ = function (id) { return document.getElementById(id); };
  var localVideo = $("local-video"), remoteVideo = $("remote-video"), remoteNote = $("remote-note");
  var statusEl = $("room-status"), problem = $("room-problem"), notice = $("room-notice");
  var btnStart = $("room-start"), btnJoin = $("room-join"), btnMute = $("room-mute"), btnCamera = $("room-camera");
  var btnFlip = $("room-flip"), btnShare = $("room-share"), btnDevices = $("room-devices"), btnLeave = $("room-leave");
  var knock = $("room-knock"), btnAdmit = $("room-admit"), btnRetry = $("room-retry");
  var setup = $("room-setup"), devices = $("setup-devices"), meterEl = $("mic-level");
  var pickCamera = $("pick-camera"), pickMic = $("pick-mic"), pickSpeaker = $("pick-speaker");
  var qualityBox = $("room-quality"), qMine = $("q-mine"), qTheirs = $("q-theirs");
  var poorBox = $("room-poor"), audioBox = $("room-audio-mode"), helpBox = $("room-help"), sharingBar = $("room-sharing");
  var allowShare = $("room-allow-share");

  // Timings of the reconnection and of the quality indicator (milliseconds).
  var STALL = 5000;        // no incoming bytes this long, the connection down: it dropped
  var RESTART_EVERY = 6000; // while down, a new ICE restart this often
  var HELP_AFTER = 30000;   // while down this long, show whom to phone
  var POOR_OFFER = 10000;   // poor this long: offer audio only
  var STEP_UP = 10000;      // better this long before sending more again

  var stream = null;        // the camera and microphone
  var camTrack = null, micTrack = null, screenTrack = null;
  var cameraOff = false, audioOnly = false, facing = "user";
  var pc = null, ws = null, iceServers = [], audioSender = null, videoSender = null;
  var over = false, joined = false, retries = 0, everConnected = false;
  // restarting: the server said it restarts, the socket comes back by itself;
  // resumed: back after a restart, the client the practitioner had let in is let in again.
  var restarting = false, resumed = false, letIn = false;
  var shareAllowed = practitioner, remote = {};
  var prefs = loadPrefs();
  var knownDevices = null;

  // For the browser tests and for support: the live connection, its state,
  // and the two ways back from a network drop, to try them without cutting
  // the network.
  var hooks = window.foyerRoom = {
    pc: function () { return pc; },
    restart: function () { restartICE(); },
    dropSocket: function () { if (ws) ws.close(); },
    quality: function () { return { mine: qMine.dataset.q, theirs: qTheirs.dataset.q, last: lastMetrics }; },
    sendParams: function () { return videoSender && videoSender.getParameters ? videoSender.getParameters().encodings : null; },
    videoTrack: function () { return videoSender ? videoSender.track : null; },
    audioTrack: function () { return audioSender ? audioSender.track : null; },
    restarts: 0, offers: 0, drops: 0, recoveries: [], audioOnly: function () { return audioOnly; },
    // The last events of the connection, with their time: what support asks for.
    events: []
  };
  function note(what) {
    hooks.events.push([Date.now(), what]);
    if (hooks.events.length > 50) hooks.events.shift();
  }

  function status(text) { statusEl.textContent = text; }
  function show(el, on) { if (el) el.hidden = !on; }
  function say(text) {
    notice.textContent = text;
    show(notice, !!text);
  }

  function loadPrefs() {
    try { return JSON.parse(localStorage.getItem("foyer.room.devices")) || {}; } catch (e) { return {}; }
  }
  function savePrefs() {
    try { localStorage.setItem("foyer.room.devices", JSON.stringify(prefs)); } catch (e) { /* private mode: not remembered */ }
  }

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
    show(btnStart, !joined);
    status("");
    problem.scrollIntoView({ block: "nearest" });
  }

  function mediaError(err) {
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return fail("err_denied", true);
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return fail("err_missing", false);
    if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return fail("err_busy", false);
    fail("err_failed", false);
  }

  // --- Devices -------------------------------------------------------------

  function videoConstraints(id) {
    var v = { width: { ideal: 1280 }, height: { ideal: 720 } };
    if (id) v.deviceId = { exact: id };
    else v.facingMode = facing;
    return v;
  }
  function audioConstraints(id) {
    var a = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (id) a.deviceId = { exact: id };
    return a;
  }

  // getMedia asks for the remembered devices, and for the defaults when one
  // of them is gone (unplugged since last time).
  function getMedia() {
    var md = navigator.mediaDevices;
    return md.getUserMedia({ audio: audioConstraints(prefs.mic), video: videoConstraints(prefs.camera) }).catch(function (err) {
      if (err && err.name === "OverconstrainedError" && (prefs.mic || prefs.camera)) {
        prefs.mic = prefs.camera = "";
        return md.getUserMedia({ audio: audioConstraints(""), video: videoConstraints("") });
      }
      throw err;
    }).catch(function (err) {
      if (err && (err.name === "NotFoundError" || err.name === "OverconstrainedError")) {
        // No camera: sound alone is still a session.
        return md.getUserMedia({ audio: audioConstraints("") }).then(function (s) {
          say(msgs.audio_only);
          return s;
        });
      }
      throw err;
    });
  }

  // start asks for the camera and microphone (only now, after a tap), then
  // shows the device check.
  function start() {
    show(problem, false);
    if (!window.RTCPeerConnection || !window.WebSocket) return fail("err_unsupported", false);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return fail(window.isSecureContext ? "err_unsupported" : "err_insecure", false);
    }
    btnStart.disabled = true;
    status(msgs.connecting);
    getMedia().then(function (s) {
      btnStart.disabled = false;
      stream = s;
      camTrack = s.getVideoTracks()[0] || null;
      micTrack = s.getAudioTracks()[0] || null;
      watchCamera();
      showLocal();
      show(btnStart, false);
      show($("stage-hint"), false);
      if (joined) {
        // "Try again" after the camera failed in the session.
        replaceTracks();
        controls();
        return;
      }
      show(devices, true);
      show(btnJoin, true);
      show($("setup-intro"), false);
      status(msgs.ready);
      startMeter();
      fillPickers();
      btnJoin.focus();
    }).catch(function (err) {
      btnStart.disabled = false;
      mediaError(err);
    });
  }

  function showLocal() {
    if (screenTrack) {
      localVideo.srcObject = new MediaStream([screenTrack]);
      localVideo.classList.add("screen");
    } else {
      localVideo.srcObject = stream;
      localVideo.classList.remove("screen");
    }
    localVideo.classList.toggle("off", !screenTrack && (!camTrack || cameraOff || audioOnly));
  }

  function deviceLabel(d, i) {
    if (d.deviceId === "default") return msgs.default_device + (d.label ? " – " + d.label.replace(/^Default - /, "") : "");
    return d.label || msgs.device_n.replace("{n}", String(i + 1));
  }

  // fillPickers lists the cameras, microphones and speakers, the ones in use selected.
  function fillPickers() {
    if (!navigator.mediaDevices.enumerateDevices) return Promise.resolve([]);
    return navigator.mediaDevices.enumerateDevices().then(function (list) {
      var fill = function (sel, kind, current) {
        var of = list.filter(function (d) { return d.kind === kind; });
        sel.replaceChildren();
        of.forEach(function (d, i) {
          var o = document.createElement("option");
          o.value = d.deviceId;
          o.textContent = deviceLabel(d, i);
          sel.appendChild(o);
        });
        if (current && of.some(function (d) { return d.deviceId === current; })) sel.value = current;
        sel.closest(".field").hidden = of.length === 0;
        return of;
      };
      var cams = fill(pickCamera, "videoinput", camTrack && camTrack.getSettings().deviceId);
      fill(pickMic, "audioinput", micTrack && micTrack.getSettings().deviceId);
      if ("setSinkId" in HTMLMediaElement.prototype) fill(pickSpeaker, "audiooutput", prefs.speaker || "default");
      else show($("speaker-field"), false);
      show(btnFlip, cams.length > 1 && navigator.maxTouchPoints > 0 && !!camTrack);
      if (!knownDevices) knownDevices = list.map(function (d) { return d.kind + d.deviceId; });
      return list;
    });
  }

  // switchDevice replaces the camera or the microphone, in the preview and on
  // the call, without a new negotiation.
  function switchDevice(kind, id, remember) {
    var video = kind === "video";
    var old = video ? camTrack : micTrack;
    // A phone opens one camera at a time: let go of the old one first.
    if (video && old) old.stop();
    var c = video ? { video: videoConstraints(id) } : { audio: audioConstraints(id) };
    return navigator.mediaDevices.getUserMedia(c).then(function (s) {
      var t = video ? s.getVideoTracks()[0] : s.getAudioTracks()[0];
      if (old) {
        stream.removeTrack(old);
        old.stop();
      }
      stream.addTrack(t);
      if (video) {
        camTrack = t;
        t.enabled = !cameraOff;
        watchCamera();
      } else {
        t.enabled = micTrack ? micTrack.enabled : true;
        micTrack = t;
        startMeter();
      }
      if (remember) {
        prefs[video ? "camera" : "mic"] = id;
        savePrefs();
      }
      replaceTracks();
      showLocal();
      fillPickers();
      if (joined) say(msgs.device_switched.replace("{device}", t.label || ""));
      return t;
    });
  }

  function pickSpeakerFor(el) {
    if (prefs.speaker && el.setSinkId) return el.setSinkId(prefs.speaker).catch(function () {});
    return Promise.resolve();
  }

  // The microphone level, from an analyser on the microphone's track.
  var meterCtx = null, meterRaf = 0;
  function startMeter() {
    stopMeter();
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC || !micTrack || setup.hidden) return;
    try {
      meterCtx = new AC();
      var src = meterCtx.createMediaStreamSource(new MediaStream([micTrack]));
      var an = meterCtx.createAnalyser();
      an.fftSize = 512;
      src.connect(an);
      var buf = new Float32Array(an.fftSize);
      var loop = function () {
        an.getFloatTimeDomainData(buf);
        var sum = 0;
        for (var i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
        // Speech sits around 0.02 to 0.2 RMS: a square root spreads it over the bar.
        meterEl.value = Math.min(1, Math.sqrt(Math.sqrt(sum / buf.length)) * 1.4);
        meterRaf = requestAnimationFrame(loop);
      };
      loop();
    } catch (e) { /* no meter is no reason to fail */ }
  }
  function stopMeter() {
    cancelAnimationFrame(meterRaf);
    if (meterCtx) { meterCtx.close(); meterCtx = null; }
  }

  // testSound plays a short tune on the chosen speaker.
  function testSound() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    var ctx = new AC(), t = ctx.currentTime;
    var out = ctx.destination, el = null;
    if (ctx.createMediaStreamDestination && "setSinkId" in HTMLMediaElement.prototype && prefs.speaker) {
      var dest = ctx.createMediaStreamDestination();
      out = dest;
      el = new Audio();
      el.srcObject = dest.stream;
      pickSpeakerFor(el).then(function () { return el.play(); }).catch(function () {});
    }
    [523.25, 659.25, 783.99].forEach(function (f, i) {
      var o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t + i * 0.2);
      g.gain.exponentialRampToValueAtTime(0.25, t + i * 0.2 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.2 + 0.35);
      o.connect(g).connect(out);
      o.start(t + i * 0.2);
      o.stop(t + i * 0.2 + 0.4);
    });
    show($("test-sound-note"), true);
    setTimeout(function () { if (el) el.srcObject = null; ctx.close(); }, 1500);
  }

  // A camera the browser stopped (the page was in the background on a
  // phone, or the camera was unplugged) is started again when possible.
  function watchCamera() {
    if (!camTrack) return;
    var t = camTrack;
    t.onended = function () { if (t === camTrack && !over) restartCamera(false); };
  }
  function restartCamera(fromBackground) {
    if (!camTrack || over) return;
    var id = prefs.camera || "";
    switchDevice("video", id, false).then(function () {
      say(fromBackground ? msgs.camera_back : "");
    }, function () {
      if (id) return switchDevice("video", "", false).then(function () { say(msgs.camera_back); }, function () { say(msgs.camera_lost); });
      say(msgs.camera_lost);
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !camTrack) return;
    if (camTrack.readyState === "ended" || camTrack.muted) restartCamera(true);
  });

  // onDeviceChange follows what is plugged in and out: a headset plugged in
  // is used at once unless a microphone was chosen, and a device unplugged
  // is replaced by the default one.
  function onDeviceChange() {
    if (!stream) return;
    navigator.mediaDevices.enumerateDevices().then(function (list) {
      var ids = list.map(function (d) { return d.kind + d.deviceId; });
      var added = list.filter(function (d) {
        return d.kind === "audioinput" && d.deviceId !== "default" && d.deviceId !== "communications" && knownDevices && knownDevices.indexOf(d.kind + d.deviceId) < 0;
      });
      knownDevices = ids;
      var has = function (kind, t) { return t && ids.indexOf(kind + t.getSettings().deviceId) >= 0; };
      if (added.length && !prefs.mic) return switchDevice("audio", added[0].deviceId, false);
      if (micTrack && !has("audioinput", micTrack)) return switchDevice("audio", "", false);
      if (camTrack && !has("videoinput", camTrack)) return switchDevice("video", "", false);
      fillPickers();
    }).catch(function () {});
  }
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) navigator.mediaDevices.addEventListener("devicechange", onDeviceChange);

  // --- Signalling ----------------------------------------------------------

  function send(m) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  }

  function join() {
    joined = true;
    root.dataset.phase = "session";
    show(setup, false);
    show(btnJoin, false);
    stopMeter();
    controls();
    connect();
  }

  function controls() {
    show(btnMute, !!micTrack);
    show(btnCamera, !!camTrack);
    show(btnShare, shareAllowed);
    show(btnDevices, true);
    show(btnLeave, true);
    show($("room-allow-field"), practitioner);
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
      status(restarting ? msgs.closed_restarting : msgs.reconnecting);
      retries++;
      setTimeout(connect, Math.min(1000 * Math.pow(2, retries - 1), 10000));
    };
  }

  function handle(m) {
    switch (m.type) {
      case "welcome":
        iceServers = m.iceServers || [];
        retries = 0;
        resumed = restarting;
        restarting = false;
        status(practitioner ? msgs.waiting_staff : msgs.connecting);
        break;
      case "waiting":
        status(m.present ? msgs.waiting_admit : msgs.waiting_arrive);
        break;
      case "knock":
        // Back after a restart (the server forgot who was let in): the client
        // let in before comes in again without a second knock.
        if (resumed && letIn) {
          resumed = false;
          send({ type: "admit" });
          break;
        }
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
        letIn = true;
        resumed = false;
        fresh();
        if (practitioner) {
          offer(false);
          if (allowShare) send({ type: "share", allowed: allowShare.checked });
        }
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
        if (pc && pc.signalingState === "have-local-offer") pc.setRemoteDescription({ type: "answer", sdp: m.sdp }).catch(function () {});
        break;
      case "candidate":
        if (pc && m.candidate) pc.addIceCandidate(m.candidate).catch(function () {});
        break;
      case "restart":
        if (pc && practitioner) offer(true);
        break;
      case "media":
        remote = m;
        remoteNotes();
        break;
      case "quality":
        showQuality(qTheirs, m.quality);
        if (m.quality === "reconnecting" && pc) status(msgs.reconnecting_media);
        break;
      case "share":
        var was = shareAllowed;
        shareAllowed = !!m.allowed;
        show(btnShare, shareAllowed && joined && !screenTrack);
        if (shareAllowed && !was) say(msgs.share_allowed);
        else if (!shareAllowed && screenTrack) stopShare();
        break;
      case "peer-left":
        closePC();
        show(knock, false);
        show(remoteNote, false);
        remote = {};
        status(m.reason === "left" ? msgs.peer_left : m.reason === "removed" ? msgs.peer_removed : msgs.peer_dropped);
        break;
      case "closed":
        if (m.reason === "restarting") {
          // Foyer stops to start again: the socket comes back by itself
          // (onclose); the call's sound and picture go browser to browser
          // meanwhile.
          restarting = true;
          status(msgs.closed_restarting);
          break;
        }
        end(msgs["closed_" + m.reason] || msgs.closed_ended);
        break;
    }
  }

  function remoteNotes() {
    var notes = [];
    if (remote.audio === false) notes.push(msgs.remote_muted);
    if (remote.audio_only) notes.push(msgs.remote_audio_only);
    else if (remote.screen) notes.push(msgs.remote_sharing);
    else if (remote.video === false) notes.push(msgs.remote_camera_off);
    remoteNote.textContent = notes.join(" ");
    show(remoteNote, notes.length > 0);
    remoteVideo.classList.toggle("screen", !!remote.screen);
  }

  // --- The peer connection -------------------------------------------------

  function currentVideo() {
    if (screenTrack) return screenTrack;
    return audioOnly ? null : camTrack;
  }

  // fresh starts a new peer connection with our tracks. The video sender
  // always exists, so the screen or the camera can come and go on it.
  function fresh() {
    closePC();
    pc = new RTCPeerConnection({ iceServers: iceServers });
    audioSender = micTrack ? pc.addTrack(micTrack, stream) : pc.addTransceiver("audio", { direction: "sendrecv", streams: [stream] }).sender;
    var v = currentVideo();
    videoSender = v ? pc.addTrack(v, stream) : pc.addTransceiver("video", { direction: "sendrecv", streams: [stream] }).sender;
    level = "";
    applyParams();
    pc.ontrack = function (ev) {
      var s = ev.streams[0];
      if (!s) {
        s = remoteVideo.srcObject instanceof MediaStream ? remoteVideo.srcObject : new MediaStream();
        s.addTrack(ev.track);
      }
      if (remoteVideo.srcObject !== s) {
        remoteVideo.srcObject = s;
        pickSpeakerFor(remoteVideo);
      }
    };
    pc.onicecandidate = function (ev) {
      send({ type: "candidate", candidate: ev.candidate ? ev.candidate.toJSON() : null });
    };
    var mine = pc;
    pc.onconnectionstatechange = function () {
      if (pc !== mine) return;
      var s = pc.connectionState;
      note("connection " + s);
      if (s === "connected") {
        everConnected = true;
        show(qualityBox, true);
        if (dropAt) recovered();
        else status(msgs.connected);
        sendMedia();
      } else if (s === "failed") {
        if (everConnected && !dropAt) dropped();
        else restartICE();
      }
    };
    pc.onsignalingstatechange = function () {
      if (pc === mine && pc.signalingState === "stable" && pendingRestart) {
        pendingRestart = false;
        offer(true);
      }
    };
    startWatch();
  }

  var pendingRestart = false, offerAt = 0;
  function restartICE() {
    note("ice restart");
    hooks.restarts++;
    restartAt = Date.now();
    if (practitioner) offer(true);
    else send({ type: "restart" });
  }

  function offer(restart) {
    if (!pc) fresh();
    if (pc.signalingState !== "stable") {
      pendingRestart = restart;
      return;
    }
    hooks.offers++;
    offerAt = Date.now();
    pc.createOffer({ iceRestart: restart })
      .then(function (o) { return pc.setLocalDescription(o); })
      .then(function () { send({ type: "offer", sdp: pc.localDescription.sdp }); })
      .catch(function () {});
  }

  function closePC() {
    stopWatch();
    if (pc) { pc.close(); pc = null; }
    audioSender = videoSender = null;
    remoteVideo.srcObject = null;
    dropAt = 0;
    show(helpBox, false);
    show(poorBox, false);
    show(qualityBox, false);
    showQuality(qMine, "");
    showQuality(qTheirs, "");
  }

  function replaceTracks() {
    if (audioSender && micTrack && audioSender.track !== micTrack) audioSender.replaceTrack(micTrack).catch(function () {});
    if (videoSender && videoSender.track !== currentVideo()) videoSender.replaceTrack(currentVideo()).then(applyParams, function () {});
  }

  function sendMedia() {
    send({
      type: "media", audio: !!micTrack && micTrack.enabled,
      video: !!screenTrack || (!!camTrack && !cameraOff && !audioOnly), screen: !!screenTrack, audio_only: audioOnly
    });
  }

  // --- Watching the connection: drops and quality --------------------------

  var watchTimer = 0, lastBytes = -1, lastBytesAt = 0, dropAt = 0, restartAt = 0;
  var prevSample = null, rawLevels = [], level = "", levelAt = 0, poorSince = 0, offerDeclined = false;
  var lastMetrics = null;

  function startWatch() {
    stopWatch();
    lastBytes = -1;
    lastBytesAt = Date.now();
    prevSample = null;
    rawLevels = [];
    watchTimer = setInterval(watch, 1000);
  }
  function stopWatch() { clearInterval(watchTimer); watchTimer = 0; }

  function watch() {
    if (!pc) return;
    var mine = pc;
    pc.getStats().then(function (report) {
      if (pc !== mine) return;
      var s = readStats(report);
      var now = Date.now();
      // Incoming bytes (sound flows even when muted) tell a live line from a dead one.
      if (s.bytes > lastBytes) {
        lastBytes = s.bytes;
        lastBytesAt = now;
        if (dropAt && pc.connectionState === "connected") recovered();
      } else if (everConnected && !dropAt && now - lastBytesAt >= STALL && (pc.connectionState !== "connected" || now - lastBytesAt >= STALL * 1.6)) {
        dropped();
      }
      if (dropAt) {
        if (now - dropAt >= HELP_AFTER) show(helpBox, true);
        if (practitioner && pc.signalingState === "have-local-offer" && now - offerAt >= RESTART_EVERY) {
          // The answer was lost with the network: take the offer back and make another.
          pc.setLocalDescription({ type: "rollback" }).then(function () { offer(true); }, function () {});
        } else if (now - restartAt >= RESTART_EVERY) {
          restartICE();
        }
        return;
      }
      // Graded over about two seconds, while bytes come: a line with nothing
      // coming is not graded, it is down (and what would be sent about it
      // would only queue up behind the outage).
      if (now - lastBytesAt > 1500) prevSample = null;
      else if (!prevSample) prevSample = s;
      else if (s.t - prevSample.t >= 1900) {
        quality(s, prevSample);
        prevSample = s;
      }
    }).catch(function () {});
  }

  function readStats(report) {
    var s = { t: Date.now(), bytes: 0, lost: 0, recv: 0, outLoss: 0, fps: null, rtt: null, avail: null, relay: "" };
    var pair = null, pairId = null, locals = {};
    report.forEach(function (r) {
      if (r.type === "transport" && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
      if (r.type === "local-candidate") locals[r.id] = r;
    });
    report.forEach(function (r) {
      if (r.type === "candidate-pair" && (pairId ? r.id === pairId : (r.selected || (r.nominated && r.state === "succeeded")))) pair = r;
      if (r.type === "inbound-rtp") {
        s.bytes += r.bytesReceived || 0;
        s.lost += Math.max(0, r.packetsLost || 0);
        s.recv += r.packetsReceived || 0;
        if (r.kind === "video" && r.framesPerSecond !== undefined) s.fps = r.framesPerSecond;
        if (r.kind === "video") s.frames = r.framesDecoded || 0;
      }
      if (r.type === "remote-inbound-rtp") {
        if (typeof r.fractionLost === "number") s.outLoss = Math.max(s.outLoss, r.fractionLost);
        if (s.rtt === null && typeof r.roundTripTime === "number") s.rttRemote = r.roundTripTime;
      }
    });
    if (pair) {
      if (typeof pair.currentRoundTripTime === "number") s.rtt = pair.currentRoundTripTime;
      if (typeof pair.availableOutgoingBitrate === "number") s.avail = pair.availableOutgoingBitrate;
      var lc = locals[pair.localCandidateId];
      if (lc) s.relay = lc.candidateType === "relay" ? (lc.relayProtocol || "relay") : lc.candidateType;
    }
    if (s.rtt === null && s.rttRemote !== undefined) s.rtt = s.rttRemote;
    return s;
  }

  // levelOf grades the line from what getStats says of the last seconds:
  // round-trip time, packets lost each way, the bitrate the browser thinks
  // it can send, and the frames per second coming in. The worst decides.
  function levelOf(m) {
    var poor = false, fair = false;
    if (m.rtt !== null) { if (m.rtt >= 0.4) poor = true; else if (m.rtt >= 0.15) fair = true; }
    var loss = Math.max(m.inLoss, m.outLoss);
    if (loss >= 0.03) poor = true; else if (loss >= 0.01) fair = true;
    if (m.sendingVideo && m.avail !== null) { if (m.avail < 150000) poor = true; else if (m.avail < 400000) fair = true; }
    if (m.expectVideo && m.fps !== null) { if (m.fps < 5) poor = true; else if (m.fps < 12) fair = true; }
    return poor ? "poor" : fair ? "fair" : "good";
  }

  var rank = { good: 0, fair: 1, poor: 2 };
  function quality(s, prev) {
    var dl = s.lost - prev.lost, dr = s.recv - prev.recv;
    var m = {
      rtt: s.rtt, avail: s.avail, fps: s.fps, outLoss: s.outLoss, relay: s.relay,
      inLoss: dl + dr > 0 ? Math.max(0, dl) / (dl + dr) : 0,
      sendingVideo: !!currentVideo() && !screenTrack,
      expectVideo: remote.video !== false && !remote.screen && !remote.audio_only
    };
    var raw = levelOf(m);
    m.level = raw;
    lastMetrics = m;
    // The worst of the last two looks: one lucky second does not say "good".
    rawLevels.push(raw);
    if (rawLevels.length > 2) rawLevels.shift();
    var shown = rawLevels.reduce(function (a, b) { return rank[a] >= rank[b] ? a : b; });
    var now = Date.now();
    if (shown !== level) {
      var worse = !level || rank[shown] > rank[level];
      if (worse || now - levelAt >= STEP_UP) {
        setLevel(shown, now);
      }
    } else {
      levelAt = now;
    }
    if (level === "poor") {
      if (!poorSince) poorSince = now;
      if (now - poorSince >= POOR_OFFER && !audioOnly && !offerDeclined && (camTrack || screenTrack)) show(poorBox, true);
    } else {
      poorSince = 0;
      if (level === "good") offerDeclined = false;
      show(poorBox, false);
    }
  }

  function setLevel(l, now) {
    level = l;
    levelAt = now;
    showQuality(qMine, l);
    send({ type: "quality", quality: l });
    applyParams();
  }

  function showQuality(el, q) {
    el.dataset.q = q || "";
    el.textContent = msgs["q_" + (q || "unknown")] || msgs.q_unknown;
  }

  // applyParams makes the video we send fit the line: fewer bits and fewer
  // pixels when it is fair or poor, before anyone has to give up the picture.
  function applyParams() {
    if (!videoSender || !videoSender.getParameters || !videoSender.track) return;
    var p = videoSender.getParameters();
    if (!p.encodings || !p.encodings.length) return;
    var e = p.encodings[0];
    var want = { good: [0, 1], fair: [600000, 1.5], poor: [250000, 2] }[level || "good"];
    if (screenTrack) want = [want[0] ? want[0] * 1.5 : 0, 1]; // text must stay sharp: fewer bits, same pixels
    if (want[0]) e.maxBitrate = want[0];
    else delete e.maxBitrate;
    e.scaleResolutionDownBy = want[1];
    videoSender.setParameters(p).catch(function () {});
  }

  function dropped() {
    note("dropped");
    dropAt = Date.now();
    hooks.drops++;
    status(msgs.reconnecting_media);
    showQuality(qMine, "reconnecting");
    show(poorBox, false);
    send({ type: "quality", quality: "reconnecting" });
    send({ type: "drop" });
    restartICE();
  }

  function recovered() {
    note("recovered");
    hooks.recoveries.push(Date.now() - dropAt);
    dropAt = 0;
    show(helpBox, false);
    status(msgs.recovered);
    send({ type: "recovered" });
    level = "";
    rawLevels = [];
    prevSample = null;
    lastBytesAt = Date.now();
  }

  // A phone that changes networks (Wi-Fi to 4G) or comes back online mends
  // the connection at once rather than waiting for it to fail.
  // The browser knows first: offline, the line is down (said here at once;
  // nothing is sent, it would wait behind the outage); back online, or on
  // another network, a line that had stalled is mended by an ICE restart
  // without waiting for the stall to be confirmed.
  function networkChanged() {
    note("network changed " + (navigator.onLine ? "online" : "offline"));
    if (!pc || !everConnected) return;
    if (!navigator.onLine) {
      status(msgs.reconnecting_media);
      showQuality(qMine, "reconnecting");
      return;
    }
    if (dropAt) {
      if (Date.now() - restartAt >= 1000) restartICE();
    } else if (Date.now() - lastBytesAt >= 1000) dropped();
  }
  window.addEventListener("online", networkChanged);
  window.addEventListener("offline", networkChanged);
  if (navigator.connection && navigator.connection.addEventListener) navigator.connection.addEventListener("change", networkChanged);

  // --- Audio only and screen sharing ---------------------------------------

  function setAudioOnly(on) {
    audioOnly = on;
    show(poorBox, false);
    show(audioBox, on);
    replaceTracks();
    showLocal();
    sendMedia();
  }

  function startShare() {
    say("");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) return say(msgs.share_missing);
    navigator.mediaDevices.getDisplayMedia({ video: true, audio: false }).then(function (s) {
      screenTrack = s.getVideoTracks()[0];
      if ("contentHint" in screenTrack) screenTrack.contentHint = "detail";
      screenTrack.onended = function () { stopShare(); };
      replaceTracks();
      showLocal();
      show(sharingBar, true);
      show(btnShare, false);
      $("room-share-stop").focus();
      sendMedia();
    }).catch(function (err) {
      say(err && (err.name === "NotAllowedError" || err.name === "SecurityError") ? msgs.share_denied : msgs.share_failed);
    });
  }

  function stopShare() {
    if (!screenTrack) return;
    screenTrack.onended = null;
    screenTrack.stop();
    screenTrack = null;
    replaceTracks();
    showLocal();
    show(sharingBar, false);
    show(btnShare, shareAllowed && joined && !over);
    say(msgs.share_stopped);
    sendMedia();
  }

  // --- Leaving -------------------------------------------------------------

  function end(text) {
    over = true;
    closePC();
    stopMeter();
    if (ws) ws.close();
    if (stream) stream.getTracks().forEach(function (t) { t.onended = null; t.stop(); });
    if (screenTrack) { screenTrack.onended = null; screenTrack.stop(); screenTrack = null; }
    localVideo.srcObject = null;
    root.dataset.phase = "over";
    [btnMute, btnCamera, btnFlip, btnShare, btnDevices, btnLeave, btnJoin, knock, remoteNote, btnStart, setup, sharingBar,
      poorBox, audioBox, helpBox, qualityBox, $("room-allow-field")].forEach(function (b) { show(b, false); });
    say("");
    status(text);
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

  // --- Controls ------------------------------------------------------------

  btnStart.addEventListener("click", start);
  btnRetry.addEventListener("click", start);
  btnJoin.addEventListener("click", join);
  $("room-test-sound").addEventListener("click", testSound);
  pickCamera.addEventListener("change", function () {
    switchDevice("video", pickCamera.value, true).catch(function (err) { mediaError(err); fillPickers(); });
  });
  pickMic.addEventListener("change", function () {
    switchDevice("audio", pickMic.value, true).catch(function (err) { mediaError(err); fillPickers(); });
  });
  pickSpeaker.addEventListener("change", function () {
    prefs.speaker = pickSpeaker.value;
    savePrefs();
    pickSpeakerFor(remoteVideo);
  });
  btnFlip.addEventListener("click", function () {
    facing = facing === "user" ? "environment" : "user";
    prefs.camera = "";
    switchDevice("video", "", false).then(function () {
      localVideo.classList.toggle("rear", facing === "environment");
    }, function () { facing = facing === "user" ? "environment" : "user"; });
  });
  btnDevices.addEventListener("click", function () {
    var open = setup.hidden;
    show(setup, open);
    btnDevices.setAttribute("aria-expanded", String(open));
    btnDevices.textContent = open ? msgs.devices_hide : msgs.devices;
    if (open) { startMeter(); fillPickers(); } else stopMeter();
  });
  btnAdmit.addEventListener("click", function () {
    send({ type: "admit" });
    show(knock, false);
    status(msgs.connecting);
  });
  btnMute.addEventListener("click", function () {
    micTrack.enabled = !micTrack.enabled;
    btnMute.textContent = micTrack.enabled ? msgs.mute : msgs.unmute;
    btnMute.setAttribute("aria-pressed", String(!micTrack.enabled));
    sendMedia();
  });
  btnCamera.addEventListener("click", function () {
    cameraOff = !cameraOff;
    camTrack.enabled = !cameraOff;
    btnCamera.textContent = cameraOff ? msgs.camera_on : msgs.camera_off;
    btnCamera.setAttribute("aria-pressed", String(cameraOff));
    showLocal();
    sendMedia();
  });
  btnShare.addEventListener("click", startShare);
  $("room-share-stop").addEventListener("click", stopShare);
  $("room-audio-only").addEventListener("click", function () { setAudioOnly(true); });
  $("room-keep-video").addEventListener("click", function () { offerDeclined = true; show(poorBox, false); });
  $("room-video-back").addEventListener("click", function () { offerDeclined = true; setAudioOnly(false); });
  if (allowShare) {
    allowShare.addEventListener("change", function () { send({ type: "share", allowed: allowShare.checked }); });
  }
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
