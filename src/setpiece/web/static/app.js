// The shot board's live parts: follow the change feed and swap in what changed,
// and compare two takes side by side or as a wipe. No build step, no framework.
"use strict";

(function () {
  function rate(text) {
    if (!text) return 24;
    const [n, d] = String(text).split("/");
    return Number(n) / Number(d || 1) || 24;
  }

  // Live updates ------------------------------------------------------------------------------
  let pending = null;
  let refreshing = false;

  async function refresh() {
    if (refreshing) { schedule(); return; }
    refreshing = true;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      let changed = false;
      next.querySelectorAll("[data-part]").forEach(function (part) {
        const here = part.id && document.getElementById(part.id);
        if (here && here.outerHTML !== part.outerHTML) {
          here.replaceWith(document.importNode(part, true));
          changed = true;
        }
      });
      if (changed) {
        document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
        setupCompare();
      }
    } finally {
      refreshing = false;
    }
  }

  function schedule() {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () { pending = null; refresh(); }, 250);
  }

  function follow() {
    if (!document.body.dataset.live || !window.EventSource) return;
    const feed = new EventSource("/api/v1/events/stream");
    feed.addEventListener("change", schedule);
    feed.addEventListener("jobs", function () {
      if (document.getElementById("jobs") || document.getElementById("progress")) schedule();
    });
    feed.addEventListener("open", function () { document.body.dataset.feed = "open"; });
  }

  // Comparing two takes ---------------------------------------------------------------------
  function takes() {
    return Array.from(document.querySelectorAll("#takes [data-media]"));
  }

  function mediaFor(card) {
    if (!card) return null;
    let element;
    if (card.dataset.kind === "video") {
      element = document.createElement("video");
      element.muted = true;
      element.controls = true;
      element.preload = "auto";
      element.playsInline = true;
    } else {
      element = document.createElement("img");
      element.alt = "take " + card.dataset.number;
    }
    element.src = "/media/" + card.dataset.media;
    element.dataset.take = card.dataset.take;
    return element;
  }

  function showCompare() {
    const stage = document.getElementById("compare");
    if (!stage) return;
    const a = document.getElementById("compare-a").value;
    const b = document.getElementById("compare-b").value;
    const mode = document.querySelector("input[name=compare-mode]:checked").value;
    stage.className = "compare " + mode;
    stage.replaceChildren();
    const cards = takes();
    const first = mediaFor(cards.find(function (c) { return c.dataset.take === a; }));
    const second = mediaFor(cards.find(function (c) { return c.dataset.take === b; }));
    if (first) { first.classList.add("a"); stage.append(first); }
    if (second) { second.classList.add("b"); stage.append(second); }
    const wipe = document.getElementById("wipe");
    wipe.hidden = mode !== "wipe";
    applyWipe();
  }

  function applyWipe() {
    const top = document.querySelector("#compare.wipe .b");
    const value = document.getElementById("wipe").value;
    if (top) top.style.clipPath = "inset(0 0 0 " + value + "%)";
  }

  function setupCompare() {
    const a = document.getElementById("compare-a");
    const b = document.getElementById("compare-b");
    if (!a || !b) return;
    const keep = [a.value, b.value];
    const cards = takes();
    [a, b].forEach(function (select, index) {
      select.replaceChildren();
      cards.forEach(function (card) {
        const option = document.createElement("option");
        option.value = card.dataset.take;
        option.textContent = "take " + card.dataset.number;
        select.append(option);
      });
      const wanted = keep[index] || (cards[index] || cards[0] || {}).dataset?.take;
      if (wanted) select.value = wanted;
    });
    document.getElementById("compare-box").hidden = cards.length === 0;
    showCompare();
  }

  function wireCompare() {
    const box = document.getElementById("compare-box");
    if (!box) return;
    box.addEventListener("change", showCompare);
    document.getElementById("wipe").addEventListener("input", applyWipe);
    document.getElementById("compare-play").addEventListener("click", function () {
      document.querySelectorAll("#compare video").forEach(function (v) { v.currentTime = 0; v.play(); });
    });
    const here = document.getElementById("frame-here");
    if (here) here.addEventListener("click", function () {
      const a = document.getElementById("compare-a").value;
      const card = takes().find(function (c) { return c.dataset.take === a; });
      const player = document.querySelector("#compare video.a");
      if (!card) return;
      document.getElementById("comment-take").value = a;
      document.getElementById("comment-frame").value = player ? Math.floor(player.currentTime * rate(card.dataset.fps)) : 0;
    });
    setupCompare();
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireCompare();
    follow();
  });
})();
