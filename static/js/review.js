// Extraction review: fields beside the document, citations lit on the page, decisions from the keyboard.
// The server renders every field and citation box (page percentages); this file wires selection, decisions and
// drawing a box over the words of a correction.
(function () {
  "use strict";
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const root = $("#extraction");
  if (!root) return;
  const canReview = root.dataset.canReview === "1";
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  let current = null;
  let editing = null; // {field, boxes: [...]}
  let busy = false;
  // Keys pressed faster than the server answers are applied in order, each to the field current by then.
  let chain = Promise.resolve();
  const later = (fn) => (chain = chain.then(fn).catch((error) => showError(String(error))));

  const fields = () => $$("[data-field]", $("#fields"));
  const citesFor = (path) => $$(".cite").filter((c) => c.dataset.citationFor === path);

  function showError(message) {
    const box = $("[data-review-error]");
    box.textContent = message || "";
    box.hidden = !message;
  }

  // --- Selection: the field, its citations lit, the page scrolled to the first one.
  function select(field, { scrollPage = true } = {}) {
    if (!field) return;
    if (editing && editing.field !== field) cancelEdit();
    if (current) current.classList.remove("is-current");
    $$(".cite.is-lit").forEach((c) => c.classList.remove("is-lit"));
    current = field;
    field.classList.add("is-current");
    field.scrollIntoView({ block: "nearest", behavior: "instant" });
    const cites = citesFor(field.dataset.field);
    cites.forEach((c) => c.classList.add("is-lit"));
    if (scrollPage && cites.length) cites[0].scrollIntoView({ block: "center", inline: "nearest", behavior: "instant" });
  }

  function step(direction) {
    const all = fields();
    if (!all.length) return;
    const at = current ? all.indexOf(current) : -1;
    select(all[Math.max(0, Math.min(all.length - 1, at + direction))] || all[0]);
  }

  function nextUndecided(after) {
    const all = fields();
    const at = all.indexOf(after);
    return all.slice(at + 1).find((f) => f.dataset.reviewState === "unreviewed") || all[at + 1] || after;
  }

  // --- Decisions.
  async function decide(field, action, extra) {
    if (!canReview || busy || !field) return;
    busy = true;
    const body = new URLSearchParams(Object.assign({ path: field.dataset.field, action }, extra || {}));
    try {
      const response = await fetch(root.dataset.decideUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
        body,
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({ error: "The server did not answer (" + response.status + ")." }));
      if (!response.ok) {
        if (editing) {
          const err = $("[data-edit-error]", editing.field);
          err.textContent = data.error;
          err.hidden = false;
        } else showError(data.error);
        return false;
      }
      showError("");
      editing = null;
      document.body.classList.remove("is-drawing");
      $$(".draw-box").forEach((b) => b.remove());
      const holder = document.createElement("div");
      holder.innerHTML = data.html.trim();
      const fresh = holder.firstElementChild;
      field.replaceWith(fresh);

      citesFor(fresh.dataset.field).forEach((c) => c.remove());
      for (const c of data.citations) {
        const layer = $(`[data-cites-page="${c.page}"]`);
        if (!layer) continue;
        const el = document.createElement("span");
        el.className = "cite";
        el.dataset.citationFor = c.path;
        el.dataset.label = c.label;
        el.setAttribute("aria-label", "Supports " + c.label);
        el.style.cssText = `left:${c.left}%;top:${c.top}%;width:${c.width}%;height:${c.height}%`;
        layer.appendChild(el);
      }
      $("[data-decided]").textContent = data.decided;
      $("[data-progress-bar]").style.width = Math.round((100 * data.decided) / Math.max(1, data.total)) + "%";
      const status = $("[data-review-status]");
      status.dataset.reviewStatus = data.status;
      status.textContent = { unreviewed: "Unreviewed", in_review: "In review", reviewed: "Reviewed" }[data.status];
      current = fresh;
      select(action === "correct" ? fresh : nextUndecided(fresh));
      return true;
    } finally {
      busy = false;
    }
  }

  // --- Correcting: an input in the field, and boxes drawn on the page that read the words under them.
  function startEdit(field) {
    if (!canReview || !field) return;
    select(field, { scrollPage: true });
    const form = $("[data-edit]", field);
    if (!form) return;
    editing = { field, boxes: [] };
    form.hidden = false;
    document.body.classList.add("is-drawing");
    const input = $("[name=value]", form);
    input.focus();
    if (input.select) input.select();
  }

  function cancelEdit() {
    if (!editing) return;
    const form = $("[data-edit]", editing.field);
    if (form) form.hidden = true;
    $("[data-edit-error]", editing.field).hidden = true;
    editing.field.focus({ preventScroll: true });
    editing = null;
    document.body.classList.remove("is-drawing");
    $$(".draw-box").forEach((b) => b.remove());
  }

  function saveEdit() {
    if (!editing) return;
    const input = $("[name=value]", editing.field);
    const boxes = editing.boxes.map((b) => `${b.page}:${b.left},${b.top},${b.width},${b.height}`).join(";");
    decide(editing.field, "correct", { value: input.value, boxes });
  }

  async function pick() {
    const boxes = editing.boxes.map((b) => `${b.page}:${b.left},${b.top},${b.width},${b.height}`).join(";");
    const url = root.dataset.pickUrl + "?boxes=" + encodeURIComponent(boxes);
    const data = await (await fetch(url, { credentials: "same-origin" })).json();
    const err = $("[data-edit-error]", editing.field);
    if (data.error || !data.words) {
      err.textContent = data.error || "No words inside the box: draw it over the words of the value.";
      err.hidden = false;
      return;
    }
    err.hidden = true;
    const input = $("[name=value]", editing.field);
    if (input.tagName === "SELECT") {
      const option = Array.from(input.options).find((o) => o.value.toLowerCase() === data.text.toLowerCase());
      if (option) input.value = option.value;
    } else input.value = data.text;
    input.focus();
  }

  let drawing = null;
  function percentAt(frame, event) {
    const rect = frame.getBoundingClientRect();
    return {
      x: Math.max(0, Math.min(100, ((event.clientX - rect.left) / rect.width) * 100)),
      y: Math.max(0, Math.min(100, ((event.clientY - rect.top) / rect.height) * 100)),
    };
  }
  document.addEventListener("mousedown", (event) => {
    const frame = event.target.closest(".page-frame");
    if (!editing || !frame || event.button !== 0) return;
    event.preventDefault();
    if (!event.shiftKey) {
      editing.boxes = [];
      $$(".draw-box").forEach((b) => b.remove());
    }
    const start = percentAt(frame, event);
    const el = document.createElement("span");
    el.className = "draw-box";
    frame.appendChild(el);
    drawing = { frame, start, el, end: start };
    place(drawing);
  });
  function place(d) {
    const left = Math.min(d.start.x, d.end.x), top = Math.min(d.start.y, d.end.y);
    d.el.style.cssText = `left:${left}%;top:${top}%;width:${Math.abs(d.end.x - d.start.x)}%;height:${Math.abs(d.end.y - d.start.y)}%`;
    return { left, top, width: Math.abs(d.end.x - d.start.x), height: Math.abs(d.end.y - d.start.y) };
  }
  document.addEventListener("mousemove", (event) => {
    if (!drawing) return;
    drawing.end = percentAt(drawing.frame, event);
    place(drawing);
  });
  document.addEventListener("mouseup", (event) => {
    if (!drawing) return;
    drawing.end = percentAt(drawing.frame, event);
    let box = place(drawing);
    if (box.width < 0.3 && box.height < 0.3) box = { left: drawing.start.x, top: drawing.start.y, width: 0, height: 0 }; // a click: the word under it
    const round = (v) => Math.round(v * 1000) / 1000;
    editing.boxes.push({ page: Number(drawing.frame.dataset.page), left: round(box.left), top: round(box.top), width: round(box.width), height: round(box.height) });
    drawing = null;
    pick();
  });

  // --- Wiring.
  document.addEventListener("click", (event) => {
    const act = event.target.closest("[data-act]");
    if (act) {
      const field = act.closest("[data-field]");
      select(field, { scrollPage: false });
      if (act.dataset.act === "correct") startEdit(field);
      else decide(field, act.dataset.act);
      return;
    }
    if (event.target.closest("[data-show-keys]")) {
      $("#keys-dialog").showModal();
      return;
    }
    const cite = event.target.closest(".cite");
    if (cite && !editing) {
      const field = fields().find((f) => f.dataset.field === cite.dataset.citationFor);
      select(field, { scrollPage: false });
      return;
    }
    const field = event.target.closest("[data-field]");
    if (field && !event.target.closest("[data-edit], summary, details")) select(field, { scrollPage: true });
  });

  document.addEventListener("submit", (event) => {
    if (event.target.matches("[data-edit]")) {
      event.preventDefault();
      saveEdit();
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (editing && event.target.closest("[data-edit]")) {
      if (event.key === "Escape") {
        event.preventDefault();
        cancelEdit();
      } else if (event.key === "Enter") {
        event.preventDefault();
        saveEdit();
      }
      return;
    }
    if (event.target.closest("input, select, textarea, [contenteditable]") || $("#keys-dialog").open) return;
    const key = event.key;
    if (key === "j") later(() => step(1));
    else if (key === "k") later(() => step(-1));
    else if (key === "a") later(() => decide(current || fields()[0], "accept"));
    else if (key === "r") later(() => decide(current || fields()[0], "reject"));
    else if (key === "e") later(() => startEdit(current || fields()[0]));
    else if (key === "n" && canReview) window.location.href = root.dataset.nextUrl;
    else if (key === "?") $("#keys-dialog").showModal();
    else if (key === "Escape") cancelEdit();
    else return;
    event.preventDefault();
  });

  // Hover: the field a highlight supports.
  const tip = $("#seg-tip");
  document.addEventListener("mouseover", (event) => {
    const cite = event.target.closest(".cite");
    if (!cite) return;
    tip.textContent = cite.dataset.label;
    tip.hidden = false;
    tip.style.transform = `translate(${event.clientX + 14}px, ${event.clientY + 18}px)`;
  });
  document.addEventListener("mouseout", (event) => {
    if (event.target.closest(".cite")) tip.hidden = true;
  });

  const first = fields().find((f) => f.dataset.reviewState === "unreviewed") || fields()[0];
  if (first) select(first);
})();
