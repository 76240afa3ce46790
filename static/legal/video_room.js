// The room of a video hearing (legal/video_room.html): the camera and microphone check, the
// waiting room, and browser-to-browser WebRTC with the other admitted participants of the same
// space, signalled over the room's websocket (legal.consumers). The server decides everything:
// the page shows the state it is sent and connects to the peers it is given.
(function () {
  const root = document.getElementById("video-room");
  if (!root) return;
  const config = JSON.parse(document.getElementById("video-config").textContent);
  const strings = {};
  document.getElementById("video-strings").content.querySelectorAll("[data-key]").forEach((el) => {
    strings[el.dataset.key] = el.textContent;
  });
  const $ = (id) => document.getElementById(id);
  const peers = new Map(); // participant id -> RTCPeerConnection
  let socket = null;
  let stream = null;
  let state = null;
  let finished = false;
  // For tests and for support: what the page is connected to.
  window.videoRoom = { peers, remoteTracks: 0, get state() { return state; } };

  function status(text) { $("room-status").textContent = text; }
  function error(text) {
    const box = $("room-error");
    box.textContent = text;
    box.hidden = !text;
  }
  function show(section) {
    ["check", "waiting", "session"].forEach((id) => { $(id).hidden = id !== section; });
  }
  const outbox = []; // what was said before the socket was open goes when it opens
  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    else outbox.push(message);
  }

  // --- devices -------------------------------------------------------------------------------
  async function startDevices() {
    $("check-result").textContent = strings.checking;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      $("preview").srcObject = stream;
      $("check-result").textContent = strings.devices_ok;
      $("ready").disabled = false;
    } catch (e) {
      $("check-result").textContent = strings.devices_failed;
    }
  }
  const devices = startDevices(); // peers are connected once the camera is on (or has failed)
  $("ready").addEventListener("click", () => {
    const consent = $("consent");
    if (consent && !consent.checked) { error(strings.consent_needed); return; }
    error("");
    send({ type: "ready", consent: consent ? consent.checked : false });
  });
  $("leave").addEventListener("click", () => {
    finished = true;
    send({ type: "leave" });
    closeAll();
    show(null);
    status(strings.left);
  });

  // --- media between peers ------------------------------------------------------------------------
  function videoFor(id) {
    let el = document.querySelector(`video[data-peer="${id}"]`);
    if (!el) {
      const figure = document.createElement("figure");
      el = document.createElement("video");
      el.autoplay = true;
      el.playsInline = true;
      el.dataset.peer = String(id);
      const caption = document.createElement("figcaption");
      caption.textContent = (state && state.names[id]) || "";
      figure.append(el, caption);
      $("videos").append(figure);
    }
    return el;
  }

  function connection(id) {
    let pc = peers.get(id);
    if (pc) return pc;
    pc = new RTCPeerConnection({ iceServers: (config.media && config.media.ice_servers) || [] });
    peers.set(id, pc);
    if (stream) stream.getTracks().forEach((track) => pc.addTrack(track, stream));
    pc.onicecandidate = (event) => {
      if (event.candidate) send({ type: "signal", to: id, data: { kind: "candidate", candidate: event.candidate.toJSON() } });
    };
    pc.ontrack = (event) => {
      window.videoRoom.remoteTracks += 1;
      videoFor(id).srcObject = event.streams[0];
    };
    return pc;
  }

  async function offer(id) {
    const pc = connection(id);
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "signal", to: id, data: { kind: "offer", sdp: pc.localDescription.sdp } });
  }

  function hangUp(id) {
    const pc = peers.get(id);
    if (pc) pc.close();
    peers.delete(id);
    const el = document.querySelector(`video[data-peer="${id}"]`);
    if (el) el.closest("figure").remove();
  }
  function closeAll() { Array.from(peers.keys()).forEach(hangUp); }

  async function onSignal(from, data) {
    await devices;
    const pc = connection(from);
    if (data.kind === "offer") {
      await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      send({ type: "signal", to: from, data: { kind: "answer", sdp: pc.localDescription.sdp } });
    } else if (data.kind === "answer") {
      await pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
    } else if (data.kind === "candidate") {
      try { await pc.addIceCandidate(data.candidate); } catch (e) { /* a candidate of a closed exchange */ }
    }
  }

  // --- Twilio Video (VIDEO_PROVIDER = "twilio") ---------------------------------------------------------
  // The server gives an admitted participant a token for the Twilio room of their space; moving
  // to or from the private room gives a new one, and the page moves rooms.
  let twilioRoom = null;
  function attachTrack(participant, track) {
    if (track.kind !== "video" && track.kind !== "audio") return;
    window.videoRoom.remoteTracks += 1;
    const el = track.attach();
    el.dataset.peer = participant.identity;
    $("videos").append(el);
  }
  async function twilioJoin(media) {
    if (twilioRoom && twilioRoom.name === media.room) return;
    twilioLeave();
    await devices;
    twilioRoom = await Twilio.Video.connect(media.token, { name: media.room, tracks: stream ? stream.getTracks() : [] });
    const joinParticipant = (participant) => {
      participant.tracks.forEach((pub) => { if (pub.track) attachTrack(participant, pub.track); });
      participant.on("trackSubscribed", (track) => attachTrack(participant, track));
      participant.on("trackUnsubscribed", (track) => track.detach().forEach((el) => el.remove()));
    };
    twilioRoom.participants.forEach(joinParticipant);
    twilioRoom.on("participantConnected", joinParticipant);
  }
  function twilioLeave() {
    if (!twilioRoom) return;
    twilioRoom.disconnect();
    twilioRoom = null;
    $("videos").replaceChildren();
  }

  // --- the state the server sends ----------------------------------------------------------------
  function onState(next) {
    state = next;
    const me = next.me;
    const room = next.room;
    if (room.state === "ended") { finish(strings.ended); return; }
    if (me.state === "checking" || me.state === "invited") show("check");
    else if (me.state === "waiting") { show("waiting"); status(strings.waiting); }
    else if (me.state === "in_session" || me.state === "private") {
      show("session");
      status(room.state === "paused" ? strings.paused : (me.state === "private" ? strings.private : strings.in_session));
    }
    const apart = room.private_side && me.state === "in_session" && !me.chair;
    $("private-note").hidden = !apart;
    $("private-note").textContent = apart ? strings.apart : "";
    if (stream) stream.getAudioTracks().forEach((track) => { track.enabled = !me.muted; });
    if (me.muted) status(strings.muted);
    if (config.media.provider === "twilio") {
      if (next.media) twilioJoin(next.media); else twilioLeave();
      if (me.chair) renderControls(next);
      return;
    }
    // Connect to the peers given, and only to them; the lower id makes the offer.
    const wanted = new Set(next.peers);
    Array.from(peers.keys()).forEach((id) => { if (!wanted.has(id)) hangUp(id); });
    devices.then(() => next.peers.forEach((id) => {
      if (state !== next || me.id > id) return;
      const pc = peers.get(id);
      if (pc && pc.connectionState === "failed") hangUp(id);
      if (!peers.has(id)) offer(id);
      // An offer sent before the peer's socket was there is sent again (a peer coming back).
      else if (pc.signalingState === "have-local-offer") {
        send({ type: "signal", to: id, data: { kind: "offer", sdp: pc.localDescription.sdp } });
      }
    }));
    if (me.chair) renderControls(next);
  }

  function finish(text) {
    finished = true;
    closeAll();
    twilioLeave();
    show(null);
    status(text);
    if (socket) socket.close();
  }

  function renderControls(next) {
    const controls = $("controls");
    if (!controls) return;
    controls.hidden = !(next.me.state === "in_session" || next.me.state === "private");
    const body = $("roster");
    body.replaceChildren();
    next.roster.filter((p) => p.id !== next.me.id).forEach((p) => {
      const row = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = `${p.name} (${p.role_label})`;
      const where = document.createElement("td");
      where.textContent = p.state_label + (p.muted ? " 🔇" : "");
      where.dataset.state = p.state;
      const actions = document.createElement("td");
      const button = (label, message) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "small outline";
        b.textContent = label;
        b.dataset.action = message.type;
        b.addEventListener("click", () => send(message));
        actions.append(b);
      };
      if (p.state === "waiting") button(strings.admit, { type: "admit", participant: p.id });
      if (p.state === "in_session" || p.state === "private") {
        button(p.muted ? strings.unmute : strings.mute, { type: p.muted ? "unmute" : "mute", participant: p.id });
      }
      if (p.state !== "removed" && p.state !== "left") button(strings.remove, { type: "remove", participant: p.id });
      row.append(name, where, actions);
      body.append(row);
    });
  }
  document.querySelectorAll("[data-step]").forEach((b) => b.addEventListener("click", () => send({ type: "room", step: b.dataset.step })));
  document.querySelectorAll("[data-private]").forEach((b) => b.addEventListener("click", () => send({ type: "private", side: b.dataset.private })));

  // --- the websocket -----------------------------------------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${config.socket}`);
    socket.onopen = () => { outbox.splice(0).forEach(send); };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "state") onState(message);
      else if (message.type === "signal") onSignal(message.from, message.data);
      else if (message.type === "error") error(message.message);
      else if (message.type === "removed") finish(strings.removed);
    };
    socket.onclose = (event) => {
      if (finished) return;
      if (event.code === 4403 || event.code === 4410) { finish(strings.removed); return; }
      closeAll();
      status(strings.reconnecting);
      // The page comes back through its join address: an admitted participant goes straight in.
      setTimeout(() => location.reload(), 3000);
    };
  }

  connect();
})();
