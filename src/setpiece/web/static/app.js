// The shot board's live parts: follow the change feed and swap in what changed.
// No build step, no framework. (The shot page's comparison is shot.js.)
"use strict";

(function () {
  // Live updates ------------------------------------------------------------------------------
  let pending = null;
  let refreshing = false;

  // A card held by the pointer (or mid-drag) would be torn out of the user's hand by a swap:
  // wait until it is let go. board.js sets data-holding, and data-moving while a move it sent
  // is unanswered (a page fetched then would put the card back where it was).
  function holding() {
    const held = Number(document.body.dataset.holding || 0);
    return (held && Date.now() - held < 30000) || Number(document.body.dataset.moving || 0) > 0;
  }

  function moves() {
    return document.body.dataset.moved || "";
  }

  async function refresh() {
    if (refreshing || holding()) { schedule(); return; }
    refreshing = true;
    const before = moves();
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      // Picked up, or moved, while the page was being fetched: that page is stale.
      if (holding() || moves() !== before) { schedule(); return; }
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

  document.addEventListener("DOMContentLoaded", function () {
    follow();
  });
})();
