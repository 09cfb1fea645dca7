// Settings pages: copy buttons for secrets shown once ([data-copy-target] names the element whose text is copied).
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    return Promise.resolve();
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    copyText(source.textContent.trim()).then(function () {
      const label = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("data-copied", "");
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();
