// Task list: "select all on this page" and the selected count in the bulk bar.
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
})();
