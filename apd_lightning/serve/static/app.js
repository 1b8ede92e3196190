// The page of `python -m apd_lightning serve`: choose a photo, pick a model and a style, draw, download.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { models: [], limits: {}, photo: null, photoName: "", style: "1", drawn: false, busy: false, urls: {} };

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function setStatus(message) {
  $("status").textContent = message;
}

function replaceUrl(key, blob) {
  if (state.urls[key]) URL.revokeObjectURL(state.urls[key]);
  state.urls[key] = blob ? URL.createObjectURL(blob) : "";
  return state.urls[key];
}

function currentModel() {
  return state.models.find((m) => m.name === $("model").value) || state.models[0];
}

function clearDrawing() {
  $("drawing-view").hidden = true;
  $("drawing-view").removeAttribute("src");
  $("download").removeAttribute("href");
  $("download").setAttribute("aria-disabled", "true");
  replaceUrl("drawing", null);
  state.drawn = false;
}

function megabytes(bytes) {
  return `${Math.round((bytes / 1048576) * 10) / 10} MB`;
}

function setPhoto(blob, name) {
  showError("");
  clearDrawing();
  if (state.limits.max_upload_bytes && blob.size > state.limits.max_upload_bytes) {
    state.photo = null;
    $("draw").disabled = true;
    showError(`The photo is ${megabytes(blob.size)}; at most ${megabytes(state.limits.max_upload_bytes)} are accepted.`);
    return;
  }
  state.photo = blob;
  state.photoName = name || "photo";
  $("photo-name").textContent = `${state.photoName} (${megabytes(blob.size)})`;
  const view = $("photo-view");
  view.onerror = () => { view.hidden = true; };  // not an image the browser shows: the server will say why
  view.onload = () => { view.hidden = false; };
  view.src = replaceUrl("photo", blob);
  $("draw").disabled = false;
  setStatus("Ready: press Draw.");
}

function styleValue() {
  if (state.style !== "mix") return state.style;
  const weights = [1, 2, 3].map((k) => Number($(`mix-${k}`).value));
  return weights.join(":");
}

function renderStyles() {
  const model = currentModel();
  const styles = model ? model.styles : [];
  $("styles").hidden = styles.length === 0;
  const box = $("style-buttons");
  box.replaceChildren();
  const choices = styles.map((name, k) => [String(k + 1), `Style ${k + 1}`]);
  if (styles.length) choices.push(["mix", "Mix"]);
  for (const [value, label] of choices) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.style = value;
    button.setAttribute("aria-pressed", String(value === state.style));
    button.addEventListener("click", () => chooseStyle(value));
    box.append(button);
  }
  $("mix").hidden = state.style !== "mix" || !styles.length;
}

function chooseStyle(value) {
  state.style = value;
  renderStyles();
  if (state.drawn) draw();
}

function parseTimings(header) {
  const timings = {};
  for (const part of (header || "").split(",")) {
    const match = part.trim().match(/^([\w-]+);dur=([\d.]+)/);
    if (match) timings[match[1]] = Number(match[2]) / 1000;
  }
  return timings;
}

async function describeFailure(response) {
  // the server says what went wrong in `detail` (503: the model is busy, with the seconds to wait)
  let detail = "";
  try {
    detail = (await response.json()).detail;
  } catch (_) {
    detail = "";
  }
  return typeof detail === "string" && detail ? detail : `The server answered ${response.status} ${response.statusText}.`;
}

async function draw() {
  if (!state.photo || state.busy) return;
  const model = currentModel();
  const form = new FormData();
  form.append("photo", state.photo, state.photoName);
  form.append("model", model.name);
  if (model.styles.length) {
    if (styleValue().split(":").every((w) => Number(w) === 0)) {
      showError("Give at least one style of the mix a weight above 0.");
      return;
    }
    form.append("style", styleValue());
  }
  state.busy = true;
  $("draw").disabled = true;
  showError("");
  setStatus("Drawing…");
  const start = performance.now();
  try {
    const response = await fetch("/api/draw", { method: "POST", body: form });
    if (!response.ok) {
      clearDrawing();
      showError(await describeFailure(response));
      setStatus("");
      return;
    }
    const blob = await response.blob();
    const seconds = (performance.now() - start) / 1000;
    const timings = parseTimings(response.headers.get("Server-Timing"));
    const view = $("drawing-view");
    view.src = replaceUrl("drawing", blob);
    view.hidden = false;
    const style = response.headers.get("X-Style") || "drawing";
    const stem = state.photoName.replace(/\.[^.]*$/, "").replace(/[^\w.-]+/g, "_") || "photo";
    $("download").href = view.src;
    $("download").download = `${stem}_${style}.png`;
    $("download").removeAttribute("aria-disabled");
    const faces = Number(response.headers.get("X-Face-Count") || 1);
    $("drawing-caption").textContent = `Drawing (${model.name}${model.styles.length ? `, ${style}` : ""})`;
    const drawTime = timings.total !== undefined ? `, of which drawing ${timings.total.toFixed(2)} s` : "";
    setStatus(`Drawn in ${seconds.toFixed(2)} s${drawTime}${faces > 1 ? `, ${faces} faces` : ""}.`);
    state.drawn = true;
  } catch (failure) {
    clearDrawing();
    showError("The server did not answer. Is `python -m apd_lightning serve` still running?");
    setStatus("");
  } finally {
    state.busy = false;
    $("draw").disabled = !state.photo;
  }
}

function firstImageFile(items) {
  for (const item of items || []) {
    const file = item.getAsFile ? (item.kind === "file" ? item.getAsFile() : null) : item;
    if (file) return file;
  }
  return null;
}

function wireInputs() {
  $("photo-input").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) setPhoto(file, file.name);
  });
  const zone = $("dropzone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = firstImageFile(event.dataTransfer.files);
    if (file) setPhoto(file, file.name);
  });
  document.addEventListener("paste", (event) => {
    const file = firstImageFile(event.clipboardData && event.clipboardData.items);
    if (file) setPhoto(file, file.name || "pasted.png");
  });
  $("draw").addEventListener("click", draw);
  $("model").addEventListener("change", () => { renderStyles(); if (state.drawn) draw(); });
  for (const k of [1, 2, 3]) {
    $(`mix-${k}`).addEventListener("input", (event) => { event.target.nextElementSibling.value = event.target.value; });
    $(`mix-${k}`).addEventListener("change", () => { if (state.drawn) draw(); });
  }
}

function wireWebcam() {
  let stream = null;
  const stop = () => {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("webcam").hidden = true;
  };
  $("webcam-open").addEventListener("click", async () => {
    showError("");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showError("This browser offers no webcam here (a webcam works on this computer's localhost address or over HTTPS).");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      $("camera").srcObject = stream;
      $("webcam").hidden = false;
    } catch (failure) {
      showError(`No webcam: ${failure.message || failure.name}.`);
    }
  });
  $("webcam-snap").addEventListener("click", () => {
    const video = $("camera");
    if (!video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((blob) => { if (blob) setPhoto(blob, "webcam.png"); }, "image/png");
    stop();
  });
  $("webcam-close").addEventListener("click", stop);
}

async function start() {
  wireInputs();
  wireWebcam();
  try {
    const response = await fetch("/api/models");
    const info = await response.json();
    state.models = info.models;
    state.limits = info.limits || {};
    if (info.note) {
      $("note").textContent = info.note;
      $("note").hidden = false;
    }
  } catch (failure) {
    showError("Could not read the list of models from the server.");
    return;
  }
  for (const model of state.models) {
    const option = document.createElement("option");
    option.value = model.name;
    const kind = model.name.startsWith(model.kind) ? "" : `${model.kind}, `;
    option.textContent = `${model.name} (${kind}${model.image_size} px)`;
    $("model").append(option);
  }
  $("model-row").hidden = state.models.length < 2;
  renderStyles();
  document.body.dataset.ready = "true";
}

start();
