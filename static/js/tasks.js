// Task list: "select all on this page", the selected count in the bulk bar, and the file-name box's own trigger.
(function () {
  "use strict";
  function boxes() {
    return Array.from(document.querySelectorAll('input[name="task_ids"]'));
  }
  function refresh() {
    const count = boxes().filter((b) => b.checked).length;
    const counter = document.querySelector("[data-selected-count]");
    if (counter) counter.textContent = String(count);
    const bar = document.querySelector("[data-bulkbar]");
    if (bar) bar.classList.toggle("has-selection", count > 0);
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-select-all]")) boxes().forEach((b) => (b.checked = event.target.checked));
    if (event.target.matches("[data-select-all], input[name='task_ids']")) refresh();
  });
  document.addEventListener("htmx:afterSettle", refresh);
  // The file-name box searches as you type (its own trigger on the form); its change on blur would ask again. Stopped
  // here rather than by an hx-trigger filter, which htmx evaluates as code and the page's CSP forbids.
  document.addEventListener(
    "change",
    (event) => {
      if (event.target.matches("#filters input[name=q]")) event.stopPropagation();
    },
    true
  );
})();
