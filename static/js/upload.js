// Upload page: every file goes in its own request so it gets its own progress bar and its own answer
// (the server's result row: a live status chip, or the engine's reason for refusing the file).
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const queue = form.querySelector("[data-queue]");
  const empty = form.querySelector("[data-queue-empty]");
  const input = form.querySelector("[data-file-input]");
  const zone = form.querySelector("[data-dropzone]");
  const urlInput = form.querySelector("[data-url-input]");
  const MAX_PARALLEL = 3;
  const waiting = [];
  let running = 0;

  function settingsData() {
    const data = new FormData(form);
    data.delete("file");
    data.delete("url");
    return data;
  }

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(0) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function addItem(label, detail) {
    empty.hidden = true;
    const li = document.createElement("li");
    li.className = "upload-item is-uploading";
    li.innerHTML =
      '<div class="upload-item-head"><span class="file-name"></span><span class="small muted" data-detail></span></div>' +
      '<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><span style="width:0%"></span></div>';
    li.querySelector(".file-name").textContent = label;
    li.querySelector("[data-detail]").textContent = detail;
    queue.prepend(li);
    return li;
  }

  function replaceWithAnswer(li, html) {
    const holder = document.createElement("ul");
    holder.innerHTML = html.trim();
    const answer = holder.firstElementChild;
    if (!answer) {
      li.classList.replace("is-uploading", "is-error");
      li.querySelector("[data-detail]").textContent = "The server did not answer.";
      return;
    }
    li.replaceWith(answer);
    if (window.htmx) window.htmx.process(answer); // start the status chip's polling
  }

  function send(url, data, li) {
    running += 1;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("HX-Request", "true");
    const bar = li.querySelector(".progress");
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.round((100 * event.loaded) / event.total);
      bar.firstElementChild.style.width = percent + "%";
      bar.setAttribute("aria-valuenow", String(percent));
    });
    xhr.upload.addEventListener("load", () => {
      li.querySelector("[data-detail]").textContent = "Checking…";
    });
    xhr.addEventListener("load", () => replaceWithAnswer(li, xhr.responseText));
    xhr.addEventListener("error", () => {
      li.classList.replace("is-uploading", "is-error");
      li.querySelector("[data-detail]").textContent = "Upload failed: network error";
    });
    xhr.addEventListener("loadend", () => {
      running -= 1;
      next();
    });
    xhr.send(data);
  }

  function next() {
    while (running < MAX_PARALLEL && waiting.length) {
      const job = waiting.shift();
      send(job.url, job.data, job.li);
    }
  }

  function enqueueFiles(files) {
    for (const file of files) {
      const data = settingsData();
      data.append("file", file, file.name);
      waiting.push({ url: form.dataset.fileUrl, data, li: addItem(file.name, humanSize(file.size)) });
    }
    next();
  }

  function enqueueUrl() {
    const value = urlInput.value.trim();
    if (!value) return;
    const data = settingsData();
    data.append("url", value);
    waiting.push({ url: form.dataset.urlUrl, data, li: addItem(value, "URL") });
    urlInput.value = "";
    next();
  }

  input.addEventListener("change", () => {
    enqueueFiles(Array.from(input.files));
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((name) =>
    document.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("is-over");
    })
  );
  ["dragleave", "drop"].forEach((name) =>
    document.addEventListener(name, (event) => {
      event.preventDefault();
      if (name === "drop" || event.relatedTarget === null) zone.classList.remove("is-over");
    })
  );
  document.addEventListener("drop", (event) => {
    if (event.dataTransfer && event.dataTransfer.files.length) enqueueFiles(Array.from(event.dataTransfer.files));
  });
  form.querySelector("[data-url-submit]").addEventListener("click", enqueueUrl);
  form.addEventListener("submit", (event) => {
    // Enter in the URL box; files are sent as soon as they are chosen.
    event.preventDefault();
    enqueueUrl();
  });
})();
