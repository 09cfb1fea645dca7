// Document viewer: selection, type toggles, zoom, page jump, j/k navigation, hover text, OCR words.
// The server renders every box (page-relative percentages) and every panel; this file only wires them up.
(function () {
  "use strict";
  const ZOOMS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3];
  let zoomIndex = ZOOMS.indexOf(1);
  let selected = null;
  const hiddenTypes = new Set();
  const style = document.createElement("style");
  document.head.appendChild(style);

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const pages = () => $("#pages");

  // --- Segment types: a generated stylesheet hides them, so boxes loaded later are hidden too.
  function applyTypeVisibility() {
    style.textContent = Array.from(hiddenTypes)
      .map((t) => `.seg[data-segment-type="${CSS.escape(t)}"]{display:none}`)
      .join("\n");
  }

  function isVisible(box) {
    return !hiddenTypes.has(box.dataset.segmentType);
  }

  // --- Lazily loaded pages: boxes arrive when the page scrolls into view, or when we ask for them.
  function boxesLoaded(holder) {
    return holder.hasAttribute("data-loaded") || holder.dataset.swapped === "1";
  }

  function ensurePage(number) {
    const frame = document.getElementById("page-" + number);
    if (!frame) return Promise.resolve(null);
    const holder = $(".boxes", frame);
    if (boxesLoaded(holder) || frame.dataset.segmentCount === "0") return Promise.resolve(frame);
    return new Promise((resolve) => {
      const done = (event) => {
        if (event.detail.target !== holder) return;
        document.body.removeEventListener("htmx:afterSettle", done);
        resolve(frame);
      };
      document.body.addEventListener("htmx:afterSettle", done);
      window.htmx.trigger(holder, "load-boxes");
    });
  }

  // --- Selection: highlight the box, show its panel.
  function mark(box) {
    if (selected) selected.classList.remove("is-selected");
    $$(".ocr-word").forEach((w) => w.remove());
    selected = box;
    if (box) box.classList.add("is-selected");
  }

  function flash(box) {
    box.classList.remove("is-flash");
    void box.offsetWidth; // restart the animation
    box.classList.add("is-flash");
  }

  function showTab(container, name) {
    $$("[data-tab]", container).forEach((tab) => {
      if (tab.closest("[data-tabs]") !== container) return;
      tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    });
    $$("[data-pane]", container).forEach((pane) => {
      if (pane.closest("[data-tabs]") !== container) return;
      pane.hidden = pane.dataset.pane !== name;
    });
  }

  function select(box, { loadPanel = true, scroll = false } = {}) {
    mark(box);
    if (scroll) box.scrollIntoView({ block: "center", inline: "nearest", behavior: "instant" });
    flash(box);
    if (!loadPanel) return;
    const url = pages().dataset.segmentUrl.replace("SEGMENT", encodeURIComponent(box.dataset.segmentId));
    showTab($(".panel-tabs"), "segment");
    window.htmx.ajax("GET", url + "?page=" + box.dataset.page, { target: "#segment-panel", swap: "innerHTML" });
  }

  async function focusSegment(id, page, options) {
    await ensurePage(page);
    const box = $(`.seg[data-segment-id="${CSS.escape(id)}"]`);
    if (!box) return;
    if (!isVisible(box)) {
      hiddenTypes.delete(box.dataset.segmentType);
      const toggle = $(`[data-type-toggle="${CSS.escape(box.dataset.segmentType)}"]`);
      if (toggle) toggle.checked = true;
      applyTypeVisibility();
    }
    select(box, Object.assign({ scroll: true }, options));
  }

  // --- j / k: next or previous visible segment in reading order, loading pages as needed.
  async function step(direction) {
    const frames = $$(".page-frame");
    if (!frames.length) return;
    let pageIndex = selected ? frames.findIndex((f) => f.dataset.page === selected.dataset.page) : -1;
    if (pageIndex < 0) pageIndex = Math.max(0, frames.findIndex((f) => f.dataset.page === String(currentPage())));
    let from = selected;
    for (let i = pageIndex; i >= 0 && i < frames.length; i += direction) {
      const frame = await ensurePage(frames[i].dataset.page);
      const boxes = $$(".seg", frame).filter(isVisible);
      if (direction < 0) boxes.reverse();
      const at = from ? boxes.indexOf(from) : -1;
      const candidate = boxes[at + 1];
      if (candidate) {
        select(candidate, { scroll: true });
        return;
      }
      from = null;
    }
  }

  // --- Zoom and page position.
  function setZoom(index) {
    zoomIndex = Math.max(0, Math.min(ZOOMS.length - 1, index));
    const anchor = currentPage();
    pages().style.setProperty("--zoom", ZOOMS[zoomIndex]);
    $("[data-zoom-value]").textContent = Math.round(ZOOMS[zoomIndex] * 100) + "%";
    goToPage(anchor, "instant");
  }

  function currentPage() {
    const scroller = $("#doc-scroll");
    if (!scroller) return 1;
    const top = scroller.getBoundingClientRect().top + 80;
    let current = 1;
    for (const frame of $$(".page-frame")) {
      if (frame.getBoundingClientRect().top <= top) current = Number(frame.dataset.page);
      else break;
    }
    return current;
  }

  function goToPage(number, behavior) {
    const frame = document.getElementById("page-" + number);
    if (frame) frame.scrollIntoView({ block: "start", behavior: behavior || "smooth" });
  }

  // --- Hover: the segment's text in a tooltip that follows the pointer.
  const tip = () => $("#seg-tip");
  function showTip(box, event) {
    const t = tip();
    if (!t || !box.dataset.preview) return;
    t.textContent = box.dataset.preview;
    t.dataset.type = box.dataset.segmentType;
    t.hidden = false;
    moveTip(event);
  }
  function moveTip(event) {
    const t = tip();
    if (!t || t.hidden) return;
    const x = Math.min(event.clientX + 14, window.innerWidth - t.offsetWidth - 8);
    const y = event.clientY + 18 + t.offsetHeight > window.innerHeight ? event.clientY - t.offsetHeight - 10 : event.clientY + 18;
    t.style.transform = `translate(${x}px, ${y}px)`;
  }

  // --- OCR words on demand: drawn inside the selected box from the panel's JSON.
  function drawWords(on) {
    $$(".ocr-word").forEach((w) => w.remove());
    const data = $("#ocr-words");
    if (!on || !selected || !data) return;
    for (const word of JSON.parse(data.textContent)) {
      const el = document.createElement("span");
      el.className = "ocr-word";
      el.title = word.text;
      el.style.cssText = `left:${word.left}%;top:${word.top}%;width:${word.width}%;height:${word.height}%`;
      selected.appendChild(el);
    }
  }

  // --- Wiring (delegated, so it survives htmx swapping the viewer body when a task finishes).
  document.addEventListener("click", (event) => {
    const box = event.target.closest(".seg");
    if (box) {
      select(box);
      return;
    }
    const focus = event.target.closest("[data-focus-segment]");
    if (focus) {
      focusSegment(focus.dataset.focusSegment, focus.dataset.page, { loadPanel: false });
      return;
    }
    const tab = event.target.closest("[data-tab]");
    if (tab) {
      showTab(tab.closest("[data-tabs]"), tab.dataset.tab);
      return;
    }
    const zoom = event.target.closest("[data-zoom]");
    if (zoom) setZoom(zoom.dataset.zoom === "in" ? zoomIndex + 1 : zoom.dataset.zoom === "out" ? zoomIndex - 1 : ZOOMS.indexOf(1));
  });

  document.addEventListener("change", (event) => {
    const toggle = event.target.closest("[data-type-toggle]");
    if (toggle) {
      if (toggle.checked) hiddenTypes.delete(toggle.dataset.typeToggle);
      else hiddenTypes.add(toggle.dataset.typeToggle);
      toggle.closest(".type-toggle").classList.toggle("is-off", !toggle.checked);
      applyTypeVisibility();
      if (selected && !isVisible(selected)) mark(null);
      return;
    }
    if (event.target.matches("[data-page-jump]")) goToPage(event.target.value);
    if (event.target.matches("[data-draw-words]")) drawWords(event.target.checked);
  });

  document.addEventListener("mouseover", (event) => {
    const box = event.target.closest(".seg");
    if (box) showTip(box, event);
  });
  document.addEventListener("mouseout", (event) => {
    if (event.target.closest(".seg") && !event.relatedTarget?.closest?.(".seg")) tip().hidden = true;
  });
  document.addEventListener("mousemove", moveTip);

  document.addEventListener("keydown", (event) => {
    if (!pages() || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, select, textarea, [contenteditable]")) {
      if (event.key === "Enter" && event.target.matches("[data-page-jump]")) goToPage(event.target.value);
      return;
    }
    if (event.key === "j") step(1);
    else if (event.key === "k") step(-1);
    else if (event.key === "+" || event.key === "=") setZoom(zoomIndex + 1);
    else if (event.key === "-") setZoom(zoomIndex - 1);
    else if (event.key === "Escape") mark(null);
    else return;
    event.preventDefault();
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.classList && target.classList.contains("boxes")) target.dataset.swapped = "1";
  });

  let scrollTimer = null;
  document.addEventListener(
    "scroll",
    (event) => {
      if (event.target.id !== "doc-scroll") return;
      clearTimeout(scrollTimer);
      scrollTimer = setTimeout(() => {
        const jump = $("[data-page-jump]");
        if (jump && document.activeElement !== jump) jump.value = currentPage();
      }, 80);
    },
    true
  );
})();
