// The shot page's take comparison and the comment form's "Use A's frame".
// The comparison opens on the takes the page selected (the pick against the newest other
// take); live refreshes (app.js swaps the takes in) keep what the reader chose.
// "Use A's frame" never moves the comment to another take silently: it fills the frame
// when the comment is on A's take (or on the shot, and then says it moved it to A), and
// when the comment is on another take it changes nothing and says why.
"use strict";

(function () {
  function rate(text) {
    if (!text) return 24;
    const [n, d] = String(text).split("/");
    return Number(n) / Number(d || 1) || 24;
  }

  function cards() {
    return Array.from(document.querySelectorAll("#takes [data-media]"));
  }

  function card(id) {
    return cards().find(function (c) { return c.dataset.take === id; }) || null;
  }

  function mediaFor(take) {
    if (!take) return null;
    let element;
    if (take.dataset.kind === "video") {
      element = document.createElement("video");
      element.muted = true;
      element.controls = true;
      element.preload = "auto";
      element.playsInline = true;
      element.setAttribute("aria-label", "take " + take.dataset.label);
    } else {
      element = document.createElement("img");
      element.alt = "take " + take.dataset.label;
    }
    element.src = "/media/" + take.dataset.media;
    element.dataset.take = take.dataset.take;
    return element;
  }

  function applyWipe() {
    const top = document.querySelector("#compare.wipe .b");
    const value = document.getElementById("wipe").value;
    if (top) top.style.clipPath = "inset(0 0 0 " + value + "%)";
  }

  function showCompare() {
    const stage = document.getElementById("compare");
    if (!stage) return;
    const mode = document.querySelector("input[name=compare-mode]:checked").value;
    stage.className = "compare " + mode;
    stage.replaceChildren();
    const first = mediaFor(card(document.getElementById("compare-a").value));
    const second = mediaFor(card(document.getElementById("compare-b").value));
    if (first) { first.classList.add("a"); stage.append(first); }
    if (second) { second.classList.add("b"); stage.append(second); }
    document.getElementById("wipe-label").hidden = mode !== "wipe";
    applyWipe();
    const here = document.getElementById("frame-here");
    const a = card(document.getElementById("compare-a").value);
    if (here && a) here.textContent = "Use A's frame (" + a.dataset.label + ")";
  }

  // After a live refresh: the same choices, over the takes the page has now.
  function syncChoices() {
    const a = document.getElementById("compare-a");
    const b = document.getElementById("compare-b");
    if (!a || !b) return;
    const all = cards();
    [a, b].forEach(function (select) {
      const keep = select.value;
      select.replaceChildren();
      all.forEach(function (c) {
        const option = document.createElement("option");
        option.value = c.dataset.take;
        option.textContent = c.dataset.label;
        select.append(option);
      });
      if (keep && card(keep)) select.value = keep;
    });
    document.getElementById("compare-box").hidden = all.length === 0;
    showCompare();
  }

  function useFrameOfA() {
    const status = document.getElementById("frame-status");
    const a = card(document.getElementById("compare-a").value);
    const on = document.getElementById("comment-take");
    if (!a || !on) return;
    const chosen = on.value;
    if (chosen && chosen !== a.dataset.take) {
      const other = on.options[on.selectedIndex].textContent;
      status.textContent = "The comment is on " + other + ", A shows take " + a.dataset.label +
        ": nothing changed. Put the comment on take " + a.dataset.label + " first, or show " +
        other.replace(/^take /, "") + " as A.";
      status.dataset.state = "refused";
      return;
    }
    const player = document.querySelector("#compare video.a");
    const first = Number(document.getElementById("comment-form").dataset.firstFrame || 0);
    const stored = player ? Math.floor(player.currentTime * rate(a.dataset.fps)) : 0;
    document.getElementById("comment-frame").value = String(first + stored);
    let said = "Frame " + (first + stored) + " of take " + a.dataset.label + ".";
    if (!chosen) {
      on.value = a.dataset.take;
      said = "The comment is now on take " + a.dataset.label + " (it was on the shot). " + said;
    }
    status.textContent = said;
    status.dataset.state = "set";
  }

  // The drawing viewer: one take's picture with draw.js over it. It is not one of the parts
  // the live refresh swaps, so a drawing under way survives others' changes.
  function showDrawing() {
    const select = document.getElementById("draw-take");
    const stage = document.getElementById("draw-stage");
    if (!select || !stage || !window.SetpieceDraw) return;
    const option = select.options[select.selectedIndex];
    if (stage.setpieceDraw) stage.setpieceDraw.detach();
    stage.replaceChildren();
    let picture;
    if (option.dataset.kind === "video") {
      picture = document.createElement("video");
      picture.controls = true;
      picture.muted = true;
      picture.preload = "auto";
      picture.playsInline = true;
    } else {
      picture = document.createElement("img");
    }
    picture.src = "/media/" + option.dataset.media;
    picture.setAttribute(picture.tagName === "IMG" ? "alt" : "aria-label", "take " + option.dataset.label + " to draw on");
    stage.append(picture);
    const fps = rate(option.dataset.fps);
    const video = picture.tagName === "VIDEO" ? picture : null;
    window.SetpieceDraw.attach(stage, {
      take: option.value,
      // The frame on show: the middle of a frame's time is that frame (floor of time x rate).
      frame: function () { return video ? Math.floor(video.currentTime * fps + 1e-6) : 0; },
      seek: function (frame) {
        if (video) { video.pause(); video.currentTime = (frame + 0.5) / fps; }
      },
      canDraw: Boolean(stage.dataset.canDraw),
      // Shown and typed as the rest of the page numbers frames ([project] first_frame).
      firstFrame: Number(document.getElementById("drawing-box").dataset.firstFrame || 0),
    });
  }

  // Assigning the shot: the JSON API decides (roles, members, dates); a past date is allowed
  // and its warning shown.
  async function assign(event) {
    event.preventDefault();
    const form = event.target;
    const said = document.getElementById("assign-said");
    const body = { to: form.elements.to.value };
    if (form.elements.due.value) body.due = form.elements.due.value;
    said.className = "hint";
    try {
      const response = await fetch("/api/v1/shots/" + encodeURIComponent(form.dataset.shot) + "/assign", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content,
        },
        body: JSON.stringify(body),
      });
      let answer = null;
      try { answer = await response.json(); } catch (e) { answer = null; }
      if (!response.ok) {
        said.textContent = "Not assigned: " + (answer && answer.error ? answer.error.message : "refused (" + response.status + ")");
        said.classList.add("error");
        said.dataset.state = "refused";
        return;
      }
      let text = form.dataset.shot + " assigned to " + answer.assignee + (answer.due ? ", due " + answer.due : "") + ".";
      if (answer.warnings && answer.warnings.length) {
        text += " Warning: " + answer.warnings.join("; ") + ".";
        said.classList.add("warning");
      }
      said.textContent = text;
      said.dataset.state = answer.warnings && answer.warnings.length ? "warned" : "assigned";
    } catch (error) {
      said.textContent = "Not assigned: " + error.message;
      said.dataset.state = "refused";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const drawTake = document.getElementById("draw-take");
    if (drawTake) { drawTake.addEventListener("change", showDrawing); showDrawing(); }
    const assignForm = document.getElementById("assign-form");
    if (assignForm) assignForm.addEventListener("submit", assign);
  });

  document.addEventListener("DOMContentLoaded", function () {
    const box = document.getElementById("compare-box");
    if (!box) return;
    box.addEventListener("change", showCompare);
    document.getElementById("wipe").addEventListener("input", applyWipe);
    document.getElementById("compare-play").addEventListener("click", function () {
      document.querySelectorAll("#compare video").forEach(function (v) { v.currentTime = 0; v.play(); });
    });
    const here = document.getElementById("frame-here");
    if (here) here.addEventListener("click", useFrameOfA);
    // app.js counts its live refreshes on the body: the takes may have changed.
    new MutationObserver(syncChoices).observe(document.body, { attributeFilter: ["data-refreshed"] });
    showCompare();
  });
})();
