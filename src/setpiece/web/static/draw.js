// Drawings on frames: an SVG over a take's picture that shows the drawings stored for the
// frame on show, and, for those who may comment, tools to draw strokes, arrows, boxes and
// text and save them with a note (POST /api/v1/takes/{take}/annotations).
//
//   const drawing = window.SetpieceDraw.attach(container, {
//     take: "<take id or SHOT/NUMBER>",
//     frame: () => currentFrame,      // the frame on show, counted from 0 in the take
//     firstFrame: 1001,               // optional: [project] first_frame, the number shown
//                                     // for stored frame 0 (frames are shown and typed as
//                                     // productions count them; the API stores them from 0)
//     canDraw: true,                  // show the tools (the API still decides by role)
//     seek: (frame) => {...},         // optional: show that frame (the list's buttons)
//   });
//
// The container holds the picture (an <img> or <video>); the SVG is laid over the picture's
// own box (letterboxing left out), and the tools and the list of drawings are added below it.
// Shapes are kept as the API stores them: points are fractions of the picture (0..1 across
// and down from the top left), widths are pixels at 1080 lines, so a drawing fits the
// picture at any size. The limits (points a drawing) are the API's, read from its answer;
// the API checks every drawing again and its refusal is shown as it words it.
// No framework, no build step.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const TOOLS = [["stroke", "Stroke"], ["arrow", "Arrow"], ["box", "Box"], ["text", "Text"]];
  const STEP = 0.002; // a stroke keeps a point once the pointer has moved this far (picture widths)

  function csrf() {
    const meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }

  function svgNode(name, attributes) {
    const node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function html(name, attributes, text) {
    const node = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function points(shapes) {
    return shapes.reduce(function (sum, shape) { return sum + shape.points.length; }, 0);
  }

  // The box the picture itself fills inside its element (object-fit: contain, the default).
  function pictureBox(media) {
    const w = media.clientWidth;
    const h = media.clientHeight;
    const iw = media.videoWidth || media.naturalWidth || w;
    const ih = media.videoHeight || media.naturalHeight || h;
    const scale = iw && ih ? Math.min(w / iw, h / ih) : 1;
    const dw = iw * scale;
    const dh = ih * scale;
    return { x: media.offsetLeft + (w - dw) / 2, y: media.offsetTop + (h - dh) / 2, w: dw, h: dh };
  }

  // One shape as SVG, in pixels of a picture w x h.
  function drawShape(shape, w, h) {
    const at = shape.points.map(function (p) { return [p[0] * w, p[1] * h]; });
    const line = Math.max(1, shape.width * h / 1080);
    const colour = shape.colour;
    const group = svgNode("g", { "data-kind": shape.kind });
    if (shape.kind === "stroke") {
      group.append(svgNode("polyline", {
        points: at.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" "),
        fill: "none", stroke: colour, "stroke-width": line,
        "stroke-linecap": "round", "stroke-linejoin": "round",
      }));
    } else if (shape.kind === "box") {
      group.append(svgNode("rect", {
        x: Math.min(at[0][0], at[1][0]), y: Math.min(at[0][1], at[1][1]),
        width: Math.abs(at[1][0] - at[0][0]), height: Math.abs(at[1][1] - at[0][1]),
        fill: "none", stroke: colour, "stroke-width": line,
      }));
    } else if (shape.kind === "arrow") {
      const [x0, y0] = at[0];
      const [x1, y1] = at[1];
      const angle = Math.atan2(y1 - y0, x1 - x0);
      const head = 6 * line + 8;
      const wings = [0.45, -0.45].map(function (s) {
        return [x1 - head * Math.cos(angle + s), y1 - head * Math.sin(angle + s)];
      });
      group.append(svgNode("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: colour, "stroke-width": line }));
      group.append(svgNode("polygon", {
        points: [[x1, y1]].concat(wings).map(function (p) { return p.join(","); }).join(" "),
        fill: colour,
      }));
    } else {
      const text = svgNode("text", {
        x: at[0][0], y: at[0][1], fill: colour, "font-size": Math.max(12, 36 * h / 1080),
        "dominant-baseline": "hanging", "font-family": "sans-serif",
      });
      text.textContent = shape.text || "";
      group.append(text);
    }
    return group;
  }

  // The frames a drawing covers, as the rest of the board numbers them (first + stored).
  function framesOf(drawing, first) {
    return drawing.frame_start === drawing.frame_end
      ? "frame " + (first + drawing.frame_start)
      : "frames " + (first + drawing.frame_start) + "-" + (first + drawing.frame_end);
  }

  function attach(container, options) {
    if (container.setpieceDraw) container.setpieceDraw.detach();
    const take = String(options.take);
    const frameOf = options.frame || function () { return 0; };
    const canDraw = Boolean(options.canDraw);
    const first = Math.max(0, Math.floor(Number(options.firstFrame) || 0));
    const url = "/api/v1/takes/" + take.split("/").map(encodeURIComponent).join("/") + "/annotations";
    const state = {
      drawings: [], pending: [], current: null, tool: null, frame: null,
      limit: null, shown: null, dirty: true, alive: true, loaded: false,
    };

    container.classList.add("draw-host");
    const layer = svgNode("svg", { class: "draw-layer", role: "img", "aria-label": "drawings on the frame" });
    layer.dataset.take = take;
    container.append(layer);
    const panel = html("div", { class: "draw-panel" });
    container.append(panel);
    const said = html("p", { class: "draw-said", role: "status", "aria-live": "polite" });
    const list = html("ul", { class: "draw-list", "aria-label": "drawings on this take" });
    const controls = canDraw ? toolbar() : null;
    if (controls) panel.append(controls);
    panel.append(said, list);

    function say(text, kind) {
      said.textContent = text;
      said.dataset.state = kind || "";
    }

    function media() {
      return container.querySelector("video, img");
    }

    // The tools ---------------------------------------------------------------------------------
    function toolbar() {
      const box = html("fieldset", { class: "draw-tools" });
      box.append(html("legend", {}, "Draw on the frame"));
      TOOLS.forEach(function (pair) {
        const button = html("button", { type: "button", "data-tool": pair[0], "aria-pressed": "false" }, pair[1]);
        button.addEventListener("click", function () { choose(state.tool === pair[0] ? null : pair[0]); });
        box.append(button);
      });
      const colour = html("input", { type: "color", value: "#ff3b30", class: "draw-colour" });
      const text = html("input", { type: "text", maxlength: "500", class: "draw-text", size: "16" });
      const end = html("input", { type: "number", min: String(first), step: "1", class: "draw-end", size: "6" });
      const note = html("input", { type: "text", maxlength: "10000", class: "draw-note", size: "30" });
      [["Colour", colour], ["Text to place", text], ["Up to frame (optional)", end], ["Note", note]]
        .forEach(function (pair) {
          const label = html("label", {}, pair[0] + " ");
          label.append(pair[1]);
          box.append(label);
        });
      const undo = html("button", { type: "button", class: "draw-undo" }, "Undo");
      const clear = html("button", { type: "button", class: "draw-clear" }, "Clear");
      const save = html("button", { type: "button", class: "draw-save" }, "Save drawing");
      undo.addEventListener("click", function () { state.pending.pop(); afterEdit(); });
      clear.addEventListener("click", function () { state.pending = []; afterEdit(); });
      save.addEventListener("click", function () { saveDrawing(); });
      box.append(undo, clear, save);
      return box;
    }

    function field(name) {
      return controls ? controls.querySelector("." + name) : null;
    }

    function choose(tool) {
      state.tool = tool;
      layer.classList.toggle("drawing", Boolean(tool));
      if (controls) {
        controls.querySelectorAll("[data-tool]").forEach(function (button) {
          button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
        });
      }
    }

    function afterEdit() {
      if (!state.pending.length) state.frame = null;
      state.dirty = true;
      layer.dataset.pending = String(state.pending.length);
    }

    function addShape(shape) {
      if (state.frame === null) state.frame = Math.max(0, Math.floor(Number(frameOf()) || 0));
      state.pending.push(shape);
      afterEdit();
      say(state.pending.length + " shape(s) on frame " + (first + state.frame) + ", not saved yet.", "pending");
    }

    // Pointer drawing ---------------------------------------------------------------------------
    function at(event) {
      const rect = layer.getBoundingClientRect();
      const clamp = function (v) { return Math.min(1, Math.max(0, v)); };
      return [
        Math.round(clamp((event.clientX - rect.left) / rect.width) * 10000) / 10000,
        Math.round(clamp((event.clientY - rect.top) / rect.height) * 10000) / 10000,
      ];
    }

    function style() {
      const colour = field("draw-colour");
      return { colour: colour ? colour.value.toLowerCase() : "#ff3b30", width: 4 };
    }

    layer.addEventListener("pointerdown", function (event) {
      if (!state.tool) return;
      event.preventDefault();
      const p = at(event);
      if (state.tool === "text") {
        const text = field("draw-text").value.trim();
        if (!text) { say("Type the text to place first, then click where it goes.", "refused"); return; }
        addShape(Object.assign({ kind: "text", points: [p], text: text }, style()));
        return;
      }
      layer.setPointerCapture(event.pointerId);
      state.current = Object.assign({ kind: state.tool, points: [p, p] }, style());
      if (state.tool === "stroke") state.current.points = [p];
      state.dirty = true;
    });
    layer.addEventListener("pointermove", function (event) {
      const shape = state.current;
      if (!shape) return;
      const p = at(event);
      if (shape.kind === "stroke") {
        const last = shape.points[shape.points.length - 1];
        if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= STEP) shape.points.push(p);
      } else {
        shape.points[1] = p;
      }
      state.dirty = true;
    });
    function finish(event) {
      const shape = state.current;
      if (!shape) return;
      state.current = null;
      if (event.type === "pointerup") {
        const p = at(event);
        if (shape.kind === "stroke") {
          const last = shape.points[shape.points.length - 1];
          if (p[0] !== last[0] || p[1] !== last[1]) shape.points.push(p);
        } else {
          shape.points[1] = p;
        }
      }
      const a = shape.points[0];
      const b = shape.points[shape.points.length - 1];
      if (shape.points.length >= 2 && (a[0] !== b[0] || a[1] !== b[1] || shape.kind === "stroke")) {
        addShape(shape);
      }
      state.dirty = true;
    }
    layer.addEventListener("pointerup", finish);
    layer.addEventListener("pointercancel", finish);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.alive && state.tool) choose(null);
    });

    // Saving --------------------------------------------------------------------------------------
    async function saveDrawing() {
      if (!state.pending.length) { say("Draw something first: choose a tool above.", "refused"); return null; }
      const note = field("draw-note").value.trim();
      if (!note) { say("Write a note saying what the drawing shows.", "refused"); field("draw-note").focus(); return null; }
      const total = points(state.pending);
      if (state.limit && total > state.limit) {
        say("The drawing has " + total.toLocaleString("en") + " points: the limit is " +
          state.limit.toLocaleString("en") + " a drawing; simplify the strokes.", "refused");
        return null;
      }
      const body = { note: note, frame: state.frame, shapes: state.pending };
      // "Up to frame" is typed as shown; the API stores frames from 0.
      const end = field("draw-end").value.trim();
      if (end !== "") {
        const shown = Number(end);
        if (!Number.isInteger(shown)) {
          say("Up to frame " + end + " is no frame number: type a whole number, or leave it empty.", "refused");
          return null;
        }
        if (shown < first + state.frame) {
          say("Up to frame " + shown + " is before the drawing's frame, " + (first + state.frame) +
            ": type a frame from " + (first + state.frame) + " on.", "refused");
          return null;
        }
        body.frame_end = shown - first;
      }
      const button = controls.querySelector(".draw-save");
      button.disabled = true;
      try {
        const response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
          body: JSON.stringify(body),
        });
        let answer = null;
        try { answer = await response.json(); } catch (e) { answer = null; }
        if (!response.ok) {
          const reason = answer && answer.error ? answer.error.message : "refused (" + response.status + ")";
          say("Not saved: " + reason, "refused");
          return null;
        }
        state.drawings.push(answer);
        state.drawings.sort(function (x, y) { return x.frame_start - y.frame_start || x.id - y.id; });
        state.pending = [];
        afterEdit();
        field("draw-note").value = "";
        field("draw-end").value = "";
        listDrawings();
        say("Drawing saved on " + framesOf(answer, first) + " of " + answer.take_label + ".", "saved");
        return answer;
      } catch (error) {
        say("Not saved: " + error.message, "refused");
        return null;
      } finally {
        button.disabled = false;
      }
    }

    // What is stored --------------------------------------------------------------------------
    async function reload() {
      const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      let answer = null;
      try { answer = await response.json(); } catch (e) { answer = null; }
      if (!response.ok) {
        say("The drawings could not be read: " + (answer && answer.error ? answer.error.message : response.status), "refused");
        return;
      }
      state.drawings = answer.items;
      state.limit = answer.max_points || null;
      state.loaded = true;
      layer.dataset.loaded = "1";
      listDrawings();
      state.dirty = true;
    }

    function listDrawings() {
      list.replaceChildren();
      state.drawings.forEach(function (drawing) {
        const item = html("li", { "data-drawing": String(drawing.id) });
        const where = options.seek
          ? html("button", { type: "button", class: "draw-seek" }, framesOf(drawing, first))
          : html("span", {}, framesOf(drawing, first));
        if (options.seek) where.addEventListener("click", function () { options.seek(drawing.frame_start); });
        item.append(where, " ", html("b", {}, drawing.author), ": ", html("span", { class: "note" }, drawing.note), " ");
        item.append(html("a", { href: url + "/" + drawing.id + ".png", target: "_blank" }, "sheet (PNG)"));
        list.append(item);
      });
      if (!state.drawings.length) list.append(html("li", {}, "No drawings on this take yet."));
      list.dataset.count = String(state.drawings.length);
    }

    function render(frame) {
      const picture = media();
      if (!picture) return;
      const box = pictureBox(picture);
      layer.style.left = box.x + "px";
      layer.style.top = box.y + "px";
      layer.setAttribute("width", String(Math.max(1, box.w)));
      layer.setAttribute("height", String(Math.max(1, box.h)));
      layer.replaceChildren();
      const shown = state.drawings.filter(function (d) { return d.frame_start <= frame && frame <= d.frame_end; });
      shown.forEach(function (drawing) {
        const group = svgNode("g", { class: "stored", "data-drawing": String(drawing.id) });
        const title = svgNode("title");
        title.textContent = drawing.author + ", " + framesOf(drawing, first) + ": " + drawing.note;
        group.append(title);
        drawing.shapes.forEach(function (shape) { group.append(drawShape(shape, box.w, box.h)); });
        layer.append(group);
      });
      const mine = svgNode("g", { class: "pending" });
      if (state.frame === null || state.frame === frame) {
        state.pending.concat(state.current ? [state.current] : []).forEach(function (shape) {
          mine.append(drawShape(shape, box.w, box.h));
        });
      }
      layer.append(mine);
      layer.dataset.frame = String(frame);
      layer.dataset.shown = String(shown.length);
    }

    // Follow the frame on show, and the picture's size.
    function tick() {
      if (!state.alive) return;
      if (!container.isConnected) { state.alive = false; return; }
      const frame = Math.max(0, Math.floor(Number(frameOf()) || 0));
      if (state.dirty || frame !== state.shown) {
        state.dirty = false;
        state.shown = frame;
        render(frame);
      }
      requestAnimationFrame(tick);
    }
    const resized = window.ResizeObserver ? new ResizeObserver(function () { state.dirty = true; }) : null;
    if (resized) resized.observe(container);
    container.addEventListener("load", function () { state.dirty = true; }, true);
    container.addEventListener("loadedmetadata", function () { state.dirty = true; }, true);

    const controller = {
      take: take,
      reload: reload,
      save: saveDrawing,
      addShape: addShape,
      choose: choose,
      pending: function () { return state.pending.slice(); },
      drawings: function () { return state.drawings.slice(); },
      detach: function () {
        state.alive = false;
        if (resized) resized.disconnect();
        layer.remove();
        panel.remove();
        container.classList.remove("draw-host");
        delete container.setpieceDraw;
      },
    };
    container.setpieceDraw = controller;
    listDrawings();
    reload();
    requestAnimationFrame(tick);
    return controller;
  }

  window.SetpieceDraw = { attach: attach };
})();
