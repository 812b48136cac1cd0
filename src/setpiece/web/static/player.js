// The playlist player: plays a playlist's takes in order (with the shot before and after in
// the cut, at the film's rate), reviews them from the keyboard through the JSON API (its
// roles decide; a refusal shows the API's reason), and follows or leads the playlist's live
// session over the event stream. No build step, no framework.
//
// Frames are the stored ones (0-based, as the API takes them); the page shows them from
// [project] first_frame. The player's logical position is on #player (data-position,
// data-frame), which is what a follower matches to its leader.
"use strict";

(function () {
  const KEYS = {
    " ": "toggle", "j": "reverse", "k": "stop", "l": "forward",
    "ArrowLeft": "back", ",": "back", "ArrowRight": "step", ".": "step",
    "ArrowUp": "previous", "ArrowDown": "next",
    "a": "approve", "r": "retake", "c": "comment", "x": "context",
  };
  const S = {
    player: null, items: [], index: 0, frame: 0, dir: 0, timer: null, raf: null, phase: null,
    joined: false, leader: null, me: "", posting: false, postAgain: false,
    reading: false, readAgain: false, moved: 0, movedAt: 0, deciding: 0, decided: 0,
  };
  // A clip whose time has not moved for this long while it plays has stalled (Chromium
  // can leave a clip at "current data only", idle, after quick frame steps): it is then
  // stepped frame by frame, as a clip the browser will not play is.
  const STALL_MS = 1000;

  function rate(text) {
    const [n, d] = String(text || "24").split("/");
    return Number(n) / Number(d || 1) || 24;
  }
  function same(a, b) { return String(a || "").toLowerCase() === String(b || "").toLowerCase(); }
  function leading() { return S.leader !== null && same(S.leader, S.me); }
  function item() { return S.items[S.index]; }
  function frames(li) { return Math.max(1, Number(li.dataset.frames || 1)); }
  function shown(frame) { return Number(S.player.dataset.firstFrame || 0) + frame; }
  function said(id, text, refused) {
    const line = document.getElementById(id);
    line.textContent = text;
    line.classList.toggle("error", Boolean(refused));
  }

  // The API -----------------------------------------------------------------------------------
  async function call(method, path, body) {
    const csrf = document.querySelector("meta[name=csrf-token]").content;
    const response = await fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let answer = null;
    try { answer = await response.json(); } catch (e) { answer = null; }
    if (!response.ok) {
      throw new Error(answer && answer.error ? answer.error.message : "refused (" + response.status + ")");
    }
    return answer;
  }
  function playlistUrl(tail) {
    return "/api/v1/playlists/" + encodeURIComponent(S.player.dataset.playlist) + (tail || "");
  }

  // The picture -------------------------------------------------------------------------------
  function pictureOf(data, prefix, label) {
    const sha = data[prefix + "media"];
    let element;
    if (!sha) {
      element = document.createElement("div");
      element.className = "slate";
      element.textContent = label;
      return element;
    }
    if (data[prefix + "kind"] === "video") {
      element = document.createElement("video");
      element.muted = true;
      element.preload = "auto";
      element.playsInline = true;
    } else {
      element = document.createElement("img");
    }
    element.src = "/media/" + sha;
    element.setAttribute(data[prefix + "kind"] === "video" ? "aria-label" : "alt", label);
    return element;
  }
  function video() { return document.querySelector("#stage video.take"); }

  function neighbourText(li, side) {
    const d = li.dataset;
    if (!d[side + "Shot"]) return side === "before" ? "the start of the cut" : "the end of the cut";
    return d[side + "Shot"] + " (" + (d[side + "Label"] || "slate") + ", " + d[side + "Length"] + " frames)";
  }

  function render() {
    const li = item();
    const stage = document.getElementById("stage");
    stage.replaceChildren();
    S.phase = null;
    if (li.dataset.missing) {
      const gone = document.createElement("div");
      gone.className = "slate error";
      gone.textContent = li.dataset.label + " cannot be played: " + li.dataset.missing;
      stage.append(gone);
    } else {
      const picture = pictureOf(li.dataset, "", "take " + li.dataset.label);
      picture.classList.add("take");
      if (picture.tagName === "VIDEO") {
        picture.addEventListener("loadeddata", function () { seek(S.frame); }, { once: true });
        picture.addEventListener("ended", ended);
      }
      stage.append(picture);
    }
    S.items.forEach(function (other, i) {
      other.classList.toggle("here", i === S.index);
      if (i === S.index) other.setAttribute("aria-current", "true");
      else other.removeAttribute("aria-current");
    });
    document.getElementById("context").textContent =
      "In the cut: after " + neighbourText(li, "before") + ", before " + neighbourText(li, "after") + ".";
    showDecision();
    if (window.SetpieceDraw && !li.dataset.missing) {
      window.SetpieceDraw.attach(stage, {
        take: li.dataset.take,
        frame: function () { return S.frame; },
        canDraw: S.player.dataset.role !== "viewer",
        firstFrame: Number(S.player.dataset.firstFrame || 0),
        seek: function (frame) { halt(); seek(frame); announce(); },
      });
    }
  }

  function showDecision() {
    const li = item();
    const made = li.dataset.decision;
    document.getElementById("decision").textContent = made
      ? "Decision on " + li.dataset.label + ": " + made + "."
      : "No decision on " + li.dataset.label + " yet (the take is " + (li.dataset.status || "missing") + ").";
  }

  function readout() {
    const li = item();
    S.player.dataset.position = String(S.index + 1);
    S.player.dataset.frame = String(S.frame);
    S.player.dataset.take = li.dataset.take;
    S.player.dataset.state = S.phase ? "context" : (S.dir > 0 ? "playing" : S.dir < 0 ? "reversing" : "stopped");
    document.getElementById("where").textContent =
      "Take " + li.dataset.label + " (" + (S.index + 1) + " of " + S.items.length + ") · frame " +
      shown(S.frame) + " (" + (S.frame + 1) + " of " + frames(li) + ")" +
      (S.phase ? " · showing the " + S.phase + " shot" : "");
  }

  function seek(frame) {
    const li = item();
    S.frame = Math.max(0, Math.min(frames(li) - 1, frame));
    const v = video();
    // The middle of the frame: a time on a frame's edge may show the one before it.
    if (v && v.readyState >= 1) v.currentTime = (S.frame + 0.5) / rate(li.dataset.fps);
    readout();
  }

  // Transport ---------------------------------------------------------------------------------
  function halt() {
    if (S.timer) clearInterval(S.timer);
    if (S.raf) cancelAnimationFrame(S.raf);
    S.timer = S.raf = null;
    const v = video();
    if (v) v.pause();
    S.dir = 0;
    if (S.phase) { S.phase = null; render(); seek(S.frame); }
  }

  function stop() {
    const moving = S.dir !== 0 || S.phase;
    halt();
    readout();
    if (moving) announce();
  }

  function ended() {
    if (S.dir <= 0) return;
    halt();
    seek(frames(item()) - 1);
    if (document.getElementById("in-context").checked) {
      neighbour("after").then(function () { readout(); announce(); });
    } else {
      announce();
    }
  }

  function tracking() {
    const v = video();
    if (!v || S.dir <= 0) return;
    S.frame = Math.min(frames(item()) - 1, Math.floor(v.currentTime * rate(item().dataset.fps)));
    readout();
    // The end, even where "ended" was not sent (a clip a little shorter than its frames).
    if (v.ended || (v.paused && v.readyState >= 2 && S.frame >= frames(item()) - 1)) { ended(); return; }
    const now = performance.now();
    if (v.currentTime !== S.moved) {
      S.moved = v.currentTime;
      S.movedAt = now;
    } else if (now - S.movedAt > STALL_MS) {
      v.pause();
      stepForward();
      return;
    }
    S.raf = requestAnimationFrame(tracking);
  }

  // A clip the browser will not play (or not yet): stepped frame by frame at its rate.
  function stepForward() {
    if (S.dir <= 0 || S.timer) return;
    if (S.raf) cancelAnimationFrame(S.raf);
    S.raf = null;
    S.timer = setInterval(function () {
      if (S.frame >= frames(item()) - 1) { clearInterval(S.timer); S.timer = null; ended(); return; }
      seek(S.frame + 1);
    }, 1000 / rate(item().dataset.fps));
  }

  function forward() {
    halt();
    const li = item();
    if (li.dataset.missing) return;
    S.dir = 1;
    const v = video();
    if (v) {
      if (S.frame >= frames(li) - 1) seek(0);
      S.moved = -1;
      S.movedAt = performance.now();
      v.play().catch(function () { if (v === video() && v.paused) stepForward(); });
      S.raf = requestAnimationFrame(tracking);
    } else {
      // A still is one frame: held a second, the time a still of the board is shown.
      S.timer = setInterval(function () { clearInterval(S.timer); S.timer = null; ended(); }, 1000);
    }
    readout();
    liveTick();
  }

  function reverse() {
    halt();
    if (item().dataset.missing) return;
    S.dir = -1;
    S.timer = setInterval(function () {
      if (S.frame <= 0) { stop(); return; }
      seek(S.frame - 1);
    }, 1000 / rate(item().dataset.fps));
    readout();
    liveTick();
  }

  function playInContext() {
    halt();
    seek(0);
    neighbour("before").then(function (done) { if (done) forward(); });
  }

  // Shows the cut's neighbour for its length at the film's rate; resolves true unless stopped.
  function neighbour(side) {
    const li = item();
    if (!li.dataset[side + "Shot"]) return Promise.resolve(true);
    const prefix = side + "-";
    const data = {};
    ["media", "kind"].forEach(function (k) { data[prefix + k] = li.dataset[side + k.charAt(0).toUpperCase() + k.slice(1)]; });
    const label = side + ": " + li.dataset[side + "Shot"] + " (" + (li.dataset[side + "Label"] || "slate") + ")";
    const picture = pictureOf(data, prefix, label);
    picture.classList.add("neighbour");
    const stage = document.getElementById("stage");
    stage.replaceChildren(picture);
    S.phase = side;
    readout();
    if (picture.tagName === "VIDEO") picture.play().catch(function () { /* stopped */ });
    const seconds = Number(li.dataset[side + "Length"] || 0) / rate(S.player.dataset.fps);
    return new Promise(function (resolve) {
      S.timer = setInterval(function () {
        clearInterval(S.timer);
        S.timer = null;
        if (S.phase !== side) { resolve(false); return; }
        S.phase = null;
        render();
        seek(S.frame);
        resolve(true);
      }, seconds * 1000);
    });
  }

  function go(index, frame) {
    halt();
    S.index = Math.max(0, Math.min(S.items.length - 1, index));
    S.frame = 0;
    render();
    seek(frame || 0);
  }

  // Decisions ---------------------------------------------------------------------------------
  function ask(question) {
    const dialog = document.getElementById("note-dialog");
    const input = document.getElementById("note-text");
    document.getElementById("note-label").textContent = question;
    input.value = "";
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () {
        S.player.focus();
        resolve(dialog.returnValue === "ok" && input.value.trim() ? input.value.trim() : null);
      }, { once: true });
    });
  }

  function decided(li, text) {
    li.dataset.decision = text;
    li.querySelector(".item-decision").textContent = text;
    if (li === item()) showDecision();
  }

  // This page's own decisions: how many are on their way, and how many have been answered.
  async function deciding(method, path, body) {
    S.deciding += 1;
    try {
      return await call(method, path, body);
    } finally {
      S.deciding -= 1;
      S.decided += 1;
    }
  }

  async function approve() {
    const li = item();
    try {
      const take = await deciding("POST", "/api/v1/shots/" + encodeURIComponent(li.dataset.shot) + "/approve",
        { take: li.dataset.take });
      li.dataset.status = take.status;
      li.querySelector(".take-status").textContent = take.status;
      decided(li, "approved (circled)");
      said("said", li.dataset.label + " approved: circled, shot " + li.dataset.shot + " approved.", false);
    } catch (error) {
      said("said", li.dataset.label + " not approved: " + error.message, true);
    }
  }

  async function retake() {
    const li = item();
    halt();
    const note = await ask("Why a retake of " + li.dataset.shot + " (take " + li.dataset.label + ")?");
    if (note === null) { said("said", "No retake of " + li.dataset.shot + ": it needs a reason.", true); return; }
    try {
      await deciding("POST", "/api/v1/shots/" + encodeURIComponent(li.dataset.shot) + "/retake", { note: note });
      decided(li, "retake: " + note);
      said("said", "Retake of " + li.dataset.shot + " asked for: " + note, false);
    } catch (error) {
      said("said", "No retake of " + li.dataset.shot + ": " + error.message, true);
    }
  }

  async function comment() {
    const li = item();
    halt();
    const frame = S.frame;
    const note = await ask("Comment on " + li.dataset.label + " at frame " + shown(frame));
    if (note === null) { said("said", "No comment sent.", false); return; }
    try {
      await call("POST", "/api/v1/shots/" + encodeURIComponent(li.dataset.shot) + "/comments",
        { note: note, take: li.dataset.take, frame: frame });
      said("said", "Comment on " + li.dataset.label + " at frame " + shown(frame) + " saved.", false);
    } catch (error) {
      said("said", "Comment not saved: " + error.message, true);
    }
  }

  // Keys --------------------------------------------------------------------------------------
  const ACTIONS = {
    toggle: function () { if (S.dir !== 0 || S.phase) stop(); else if (document.getElementById("in-context").checked) playInContext(); else forward(); },
    reverse: reverse,
    stop: stop,
    forward: forward,
    back: function () { halt(); seek(S.frame - 1); announce(); },
    step: function () { halt(); seek(S.frame + 1); announce(); },
    previous: function () { go(S.index - 1); announce(); },
    next: function () { go(S.index + 1); announce(); },
    approve: approve,
    retake: retake,
    comment: comment,
    context: function () { const box = document.getElementById("in-context"); box.checked = !box.checked; },
  };

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.getElementById("note-dialog").open) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable], dialog")) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if ((key === " " || key === "Enter") && target.tagName === "BUTTON") return;  // the button's own
    const action = KEYS[key];
    if (!action) return;
    event.preventDefault();
    ACTIONS[action]();
  }

  // The live session ----------------------------------------------------------------------------
  function sessionLine() {
    const box = document.getElementById("session");
    box.dataset.leader = S.leader || "";
    box.dataset.following = S.joined && !leading() ? "1" : "0";
    const join = document.getElementById("join");
    join.textContent = S.joined ? "Leave session" : "Join session";
    join.setAttribute("aria-pressed", S.joined ? "true" : "false");
    let text = S.leader ? (leading() ? "You lead" : S.leader + " leads") : "Nobody leads yet";
    if (S.joined) text += leading() ? ": everyone who joined sees your take and frame" : ": you follow their take and frame";
    document.getElementById("session-state").textContent = text + ".";
  }

  // Leading: every move is posted, the newest only while one is on its way.
  function announce() {
    if (!S.joined || !leading()) return;
    if (S.posting) { S.postAgain = true; return; }
    S.posting = true;
    call("POST", playlistUrl("/session"), { position: S.index + 1, frame: S.frame })
      .then(function (view) { apply(view, false); })
      .catch(function (error) { said("session-said", "Your move was not shared: " + error.message, true); })
      .finally(function () {
        S.posting = false;
        if (S.postAgain) { S.postAgain = false; announce(); }
      });
  }

  // While playing, a leader shares where it is once a second.
  function liveTick() {
    if (!leading() || !S.joined) return;
    const playing = S.dir;
    setTimeout(function () { if (S.dir === playing && S.dir !== 0) { announce(); liveTick(); } }, 1000);
  }

  function apply(view, follow) {
    S.leader = view.leader || null;
    sessionLine();
    if (!follow || !S.joined || leading() || !view.position) return;
    const index = view.position - 1;
    if (index !== S.index || S.phase) go(index, view.frame || 0);
    else { halt(); seek(view.frame || 0); }
  }

  async function readSession() {
    if (S.reading) { S.readAgain = true; return; }
    S.reading = true;
    try {
      apply(await call("GET", playlistUrl("/session")), true);
    } catch (error) {
      said("session-said", "The session could not be read: " + error.message, true);
    } finally {
      S.reading = false;
      if (S.readAgain) { S.readAgain = false; readSession(); }
    }
  }

  async function takeLead() {
    try {
      apply(await call("POST", playlistUrl("/session/lead"), { to: S.me }), false);
      if (!S.joined) { S.joined = true; sessionLine(); }
      said("session-said", "You lead the session.", false);
      announce();
    } catch (error) {
      said("session-said", "You cannot lead: " + error.message, true);
    }
  }

  async function handOver(event) {
    event.preventDefault();
    const to = document.getElementById("handover-to").value.trim();
    if (!to) return;
    try {
      apply(await call("POST", playlistUrl("/session/lead"), { to: to }), false);
      said("session-said", "The lead is " + S.leader + "'s now.", false);
    } catch (error) {
      said("session-said", "The lead stays: " + error.message, true);
    }
  }

  // Others' decisions: the statuses and standing decisions as the API has them now. A
  // playlist fetched while one of this page's own decisions was on its way may predate it:
  // it is not applied (it would take the decision back off its take), and another is asked
  // for (CI: a retake shown, then gone, after a refresh begun for an earlier approval).
  let statusTimer = null;
  function refreshStatuses() {
    if (statusTimer) clearTimeout(statusTimer);
    statusTimer = setTimeout(async function () {
      const before = S.decided;
      try {
        if (S.deciding) { refreshStatuses(); return; }
        const fresh = await call("GET", playlistUrl());
        if (S.deciding || S.decided !== before) { refreshStatuses(); return; }
        fresh.items.forEach(function (one) {
          const li = S.items[one.position - 1];
          if (!li) return;
          if (one.status && li.dataset.status !== one.status) {
            li.dataset.status = one.status;
            li.querySelector(".take-status").textContent = one.status;
          }
          if ((one.decision || "") !== (li.dataset.decision || "")) decided(li, one.decision || "");
          else if (li === item()) showDecision();
        });
      } catch (error) { /* the next change tries again */ }
    }, 500);
  }

  function follow() {
    if (!window.EventSource) return;
    const feed = new EventSource("/api/v1/events/stream");
    feed.addEventListener("open", function () { document.body.dataset.feed = "open"; });
    feed.addEventListener("change", function (event) {
      let change;
      try { change = JSON.parse(event.data); } catch (e) { return; }
      if (change.entity === "playlist" && change.entity_id === S.player.dataset.id && change.action === "session") {
        // A leader's own moves come back too: it applied their answers already.
        if (!(leading() && same(change.actor, S.me))) readSession();
      } else if (change.entity === "take" || change.entity === "shot") {
        refreshStatuses();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    S.player = document.getElementById("player");
    if (!S.player) return;
    S.me = S.player.dataset.me;
    S.items = Array.from(document.querySelectorAll("#items > li"));
    const box = document.getElementById("session");
    S.leader = box.dataset.leader || null;
    document.addEventListener("keydown", onKey);
    S.player.querySelectorAll("button[data-key]").forEach(function (button) {
      button.addEventListener("click", function () { ACTIONS[KEYS[button.dataset.key]](); });
    });
    S.items.forEach(function (li, i) {
      li.querySelector("button.goto").addEventListener("click", function () { go(i); announce(); S.player.focus(); });
    });
    document.getElementById("join").addEventListener("click", function () {
      S.joined = !S.joined;
      sessionLine();
      if (S.joined) readSession();
    });
    document.getElementById("lead").addEventListener("click", takeLead);
    document.getElementById("handover").addEventListener("submit", handOver);
    follow();
    sessionLine();
    go(0);
    S.player.focus();
  });
})();
