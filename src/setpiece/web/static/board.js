// The shot board: groups that open and close (kept in the URL, so a view can be shared and
// the live refresh of app.js keeps them), and moving a shot between statuses by drag and drop
// or with the status select on each card (the keyboard's way). Every move is the JSON API's:
// its workflow rules and roles decide, and a refusal shows the API's own reason.
"use strict";

(function () {
  function said(text, refused) {
    const line = document.getElementById("board-said");
    if (!line) return;
    line.textContent = text;
    line.classList.toggle("error", Boolean(refused));
  }

  // Groups -------------------------------------------------------------------------------------
  function rememberOpen() {
    const board = document.getElementById("board");
    if (!board) return;
    const open = Array.from(board.querySelectorAll("details.group[open]")).map(function (g) {
      return g.dataset.group;
    });
    const url = new URL(location.href);
    url.searchParams.set("open", open.join(","));
    history.replaceState(null, "", url);
  }

  // Moves ----------------------------------------------------------------------------------------
  async function call(path, body) {
    const csrf = document.querySelector("meta[name=csrf-token]").content;
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let answer = null;
    try { answer = await response.json(); } catch (e) { answer = null; }
    if (!response.ok) {
      const reason = answer && answer.error ? answer.error.message : "refused (" + response.status + ")";
      throw new Error(reason);
    }
    return answer;
  }

  // app.js does not swap the board while a move is unanswered, nor with a page fetched before
  // one was answered (data-moving, data-moved).
  function moving(step) {
    const body = document.body.dataset;
    body.moving = String(Math.max(0, Number(body.moving || 0) + step));
    if (step < 0) body.moved = String(Number(body.moved || 0) + 1);
  }

  async function move(card, status) {
    const code = card.dataset.shot;
    const version = Number(card.dataset.version) || undefined;
    const select = card.querySelector("select.move");
    if (status === card.dataset.status) return;
    moving(1);
    try {
      let answer;
      if (status === "approved" && card.dataset.take) {
        answer = await call("/api/v1/shots/" + encodeURIComponent(code) + "/approve",
          { take: card.dataset.take, version: version });
        answer = { status: "approved", version: version + 1 };
      } else {
        let note;
        if (status === "retake") {
          note = window.prompt("Why a retake of " + code + "?");
          if (note === null) throw new Error("no retake without a reason");
        }
        answer = await call("/api/v1/shots/" + encodeURIComponent(code) + "/status",
          { status: status, note: note || undefined, version: version });
      }
      place(card, answer.status || status, answer.version);
      said(code + " moved to " + (answer.status || status) + ".", false);
    } catch (error) {
      if (select) select.value = card.dataset.status;
      said(code + " stays " + card.dataset.status + ": " + error.message, true);
    } finally {
      moving(-1);
    }
  }

  function place(card, status, version) {
    card.dataset.status = status;
    if (version) card.dataset.version = String(version);
    const select = card.querySelector("select.move");
    if (select) select.value = status;
    const target = document.querySelector("#board.by-status details.group[data-status='" + status + "'] ul.cards");
    if (target) target.append(card);
    document.querySelectorAll("#board.by-status details.group").forEach(function (group) {
      const count = group.querySelector("summary small");
      if (count) count.textContent = String(group.querySelectorAll("li.card").length);
    });
  }

  // Drag and drop: a card onto a status group --------------------------------------------------
  let dragged = null;

  function hold(on) {
    if (on) document.body.dataset.holding = String(Date.now());
    else delete document.body.dataset.holding;
  }

  function wire() {
    // While a card is held, app.js does not swap the board under it (a live update mid-drag
    // would drop the card the user is carrying).
    document.addEventListener("pointerdown", function (event) {
      const target = event.target;
      if (!target.closest || target.closest("select, button, input, textarea")) return;
      if (target.closest("li.card")) hold(true);
    }, true);
    document.addEventListener("pointerup", function () { if (!dragged) hold(false); }, true);
    document.addEventListener("toggle", function (event) {
      if (event.target.matches && event.target.matches("details.group")) rememberOpen();
    }, true);
    document.addEventListener("change", function (event) {
      const select = event.target;
      if (!select.matches || !select.matches("select.move")) return;
      const card = select.closest("li.card");
      if (card) move(card, select.value);
    });
    document.addEventListener("dragstart", function (event) {
      const card = event.target.closest ? event.target.closest("li.card") : null;
      if (!card) return;
      dragged = card;
      document.body.dataset.dragging = card.dataset.shot;
      event.dataTransfer.setData("text/plain", card.dataset.shot);
      event.dataTransfer.effectAllowed = "move";
    });
    document.addEventListener("dragend", function () {
      dragged = null;
      hold(false);
      delete document.body.dataset.dragging;
    });
    document.addEventListener("dragover", function (event) {
      const group = event.target.closest ? event.target.closest("#board.by-status details.group") : null;
      if (group && dragged) event.preventDefault();
    });
    document.addEventListener("drop", function (event) {
      const group = event.target.closest ? event.target.closest("#board.by-status details.group") : null;
      if (!group || !dragged) return;
      event.preventDefault();
      const card = dragged;
      dragged = null;
      hold(false);
      // The drop ends the carry: a live update may swap the board before Chromium's dragend,
      // which then fires on a detached card and never reaches this document.
      delete document.body.dataset.dragging;
      move(card, group.dataset.status);
    });
  }

  document.addEventListener("DOMContentLoaded", wire);
})();
