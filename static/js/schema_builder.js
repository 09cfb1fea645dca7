// Schema editor: a visual builder beside the raw JSON Schema, kept in sync both ways as you type.
// Builder → JSON on every change; JSON → builder when the text parses. The server checks the schema with the
// engine's validator (errors with their JSON path), so what saves is what the extractor accepts.
(function () {
  "use strict";
  const $ = (selector, root) => (root || document).querySelector(selector);
  const form = $("#schema-form");
  const builder = $("#builder");
  const textarea = $("#schema-json");
  if (!form || !builder || !textarea) return;
  const readonly = builder.dataset.readonly === "1";
  const TYPES = [
    ["string", "Text"], ["number", "Number"], ["integer", "Integer"], ["boolean", "Yes / no"], ["date", "Date"],
    ["enum", "One of (enum)"], ["object", "Object"], ["array_string", "List of texts"], ["array_object", "Table (list of objects)"],
  ];
  const HAS_CHILDREN = new Set(["object", "array_object"]);
  let model = { children: [], extra: {} };
  const nodes = new Map(); // row element -> {node, parent}

  // --- JSON Schema -> model. $ref into $defs/definitions are inlined; Optional (anyOf with null) is its type.
  function resolve(schema, defs, depth) {
    let s = schema || {};
    for (let i = 0; i < 16 && s && typeof s === "object"; i++) {
      if (typeof s.$ref === "string") {
        const name = s.$ref.split("/").pop();
        const { $ref, ...siblings } = s;
        s = Object.assign({}, defs[name] || {}, siblings);
        continue;
      }
      const union = s.anyOf || s.oneOf;
      if (Array.isArray(union)) {
        const real = union.filter((u) => !(u && u.type === "null"));
        const { anyOf, oneOf, ...rest } = s;
        s = Object.assign({}, real[0] || {}, rest, { _nullable: real.length < union.length });
        continue;
      }
      if (Array.isArray(s.allOf) && s.allOf.length === 1) {
        const { allOf, ...rest } = s;
        s = Object.assign({}, s.allOf[0], rest);
        continue;
      }
      break;
    }
    return s;
  }

  function typeOf(s) {
    let type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
    if (!type && s.properties) type = "object";
    if (!type && s.enum) type = "string";
    if (type === "object") return "object";
    if (type === "array") return "array";
    if (Array.isArray(s.enum) && (type === "string" || !type)) return "enum";
    if (type === "string" && (s.format === "date" || s.format === "date-time")) return "date";
    return ["number", "integer", "boolean"].includes(type) ? type : "string";
  }

  function toNode(name, schema, required, defs, depth) {
    const s = resolve(schema, defs, depth);
    let type = typeOf(s);
    const node = { name, required, description: s.description || "", enumText: "", children: [], format: s.format, itemType: "string" };
    if (type === "enum") node.enumText = (s.enum || []).filter((o) => o !== null).join(", ");
    if (type === "object") node.children = childrenOf(s, defs, depth + 1);
    if (type === "array") {
      const items = resolve(s.items, defs, depth + 1);
      const itemType = typeOf(items);
      if (itemType === "object") {
        type = "array_object";
        node.children = childrenOf(items, defs, depth + 1);
      } else {
        type = "array_string";
        node.itemType = itemType === "date" || itemType === "enum" ? "string" : itemType;
      }
    }
    node.type = type;
    return node;
  }

  function childrenOf(s, defs, depth) {
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    return Object.entries(s.properties || {}).map(([name, sub]) => toNode(name, sub, required.has(name), defs, depth));
  }

  function fromSchema(schema) {
    const defs = Object.assign({}, schema.definitions || {}, schema.$defs || {});
    const root = resolve(schema, defs, 0);
    const extra = {};
    for (const key of ["title", "description"]) if (root[key] !== undefined) extra[key] = root[key];
    return { children: childrenOf(root, defs, 1), extra };
  }

  // --- model -> JSON Schema.
  function toSchema(node) {
    const out = {};
    const t = node.type;
    if (t === "object" || t === "array_object") {
      const object = { type: "object", properties: {}, required: [] };
      for (const child of node.children) {
        if (!child.name) continue;
        object.properties[child.name] = toSchema(child);
        if (child.required) object.required.push(child.name);
      }
      if (!object.required.length) delete object.required;
      if (t === "object") Object.assign(out, object);
      else Object.assign(out, { type: "array", items: object });
    } else if (t === "array_string") Object.assign(out, { type: "array", items: { type: node.itemType || "string" } });
    else if (t === "date") Object.assign(out, { type: "string", format: node.format === "date-time" ? "date-time" : "date" });
    else if (t === "enum") Object.assign(out, { type: "string", enum: node.enumText.split(",").map((o) => o.trim()).filter(Boolean) });
    else out.type = t;
    if (node.description) out.description = node.description;
    return out;
  }

  function modelSchema() {
    const root = toSchema({ type: "object", children: model.children });
    return Object.assign({}, model.extra, root);
  }

  // --- Rendering.
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v;
      else if (v !== false && v !== undefined) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children || []) if (c) e.appendChild(c);
    return e;
  }

  function render() {
    nodes.clear();
    builder.replaceChildren();
    renderList(model.children, null, "", 0);
    if (!model.children.length) builder.appendChild(el("p", { class: "muted small", text: "No fields yet: add one, or paste a JSON Schema on the right." }));
  }

  function renderList(list, parent, prefix, depth) {
    list.forEach((node, index) => {
      const path = prefix + (node.name || `(field ${index + 1})`);
      const row = el("div", { class: "bf-row", "data-schema-field": path, style: `--depth:${depth}` });
      nodes.set(row, { node, list, index, parent });
      const name = el("input", { type: "text", class: "bf-name", value: node.name, "aria-label": "Field name", placeholder: "field_name", readonly });
      const type = el("select", { class: "bf-type", "aria-label": "Type of " + (node.name || "field"), disabled: readonly });
      for (const [value, label] of TYPES) type.appendChild(el("option", { value, selected: value === node.type, text: label }));
      const desc = el("input", { type: "text", class: "bf-desc", value: node.description, "aria-label": "Description of " + (node.name || "field"), placeholder: "Description: what the value is and where it is", readonly });
      const req = el("label", { class: "check small bf-req" }, [el("input", { type: "checkbox", class: "bf-required", checked: node.required, disabled: readonly }), document.createTextNode("required")]);
      row.append(name, type, req, desc);
      if (!readonly) {
        const tools = el("span", { class: "bf-tools" }, [
          el("button", { type: "button", class: "btn btn-icon", "data-move": "-1", "aria-label": "Move up", title: "Move up", text: "↑" }),
          el("button", { type: "button", class: "btn btn-icon", "data-move": "1", "aria-label": "Move down", title: "Move down", text: "↓" }),
          HAS_CHILDREN.has(node.type) ? el("button", { type: "button", class: "btn btn-icon", "data-add-child": "", "aria-label": "Add a field inside", title: "Add a field inside", text: "+" }) : null,
          el("button", { type: "button", class: "btn btn-icon btn-danger", "data-remove": "", "aria-label": "Remove " + (node.name || "field"), title: "Remove", text: "✕" }),
        ]);
        row.appendChild(tools);
      }
      if (node.type === "enum") row.appendChild(el("input", { type: "text", class: "bf-enum", value: node.enumText, "aria-label": "Options of " + (node.name || "field"), placeholder: "Options, comma-separated", readonly }));
      builder.appendChild(row);
      if (HAS_CHILDREN.has(node.type)) renderList(node.children, node, path + (node.type === "array_object" ? "[]." : "."), depth + 1);
    });
  }

  // --- Sync.
  let checkTimer = null;
  const status = $("#schema-status");
  function countFields(list) {
    return list.reduce((n, node) => n + (HAS_CHILDREN.has(node.type) ? countFields(node.children) : 1), 0);
  }
  function toJson() {
    textarea.value = JSON.stringify(modelSchema(), null, 2);
    check();
  }
  function check() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(async () => {
      const body = new FormData(form);
      const response = await fetch(form.dataset.checkUrl, { method: "POST", body, credentials: "same-origin" });
      const data = await response.json();
      builder.querySelectorAll(".bf-row.has-error").forEach((r) => r.classList.remove("has-error"));
      if (data.ok) {
        status.className = "small ok-text";
        status.textContent = `Valid schema · ${countFields(model.children)} field${countFields(model.children) === 1 ? "" : "s"}`;
      } else {
        status.className = "small error-text";
        status.textContent = data.error;
        const fieldPath = builderPath(data.path || "");
        const row = fieldPath && builder.querySelector(`[data-schema-field="${CSS.escape(fieldPath)}"]`);
        if (row) row.classList.add("has-error");
      }
    }, 250);
  }
  // $.properties.line_items.items.properties.amount.enum -> line_items[].amount
  function builderPath(enginePath) {
    const parts = enginePath.replace(/^\$\.?/, "").split(".");
    let out = "";
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === "properties" && parts[i + 1]) {
        out += (out && !out.endsWith("[].") ? "." : "") + parts[i + 1];
        i++;
      } else if (parts[i] === "items") out += "[].";
      else break;
    }
    return out.replace(/\[\]\.$/, "");
  }

  let textTimer = null;
  textarea.addEventListener("input", () => {
    clearTimeout(textTimer);
    textTimer = setTimeout(() => {
      let schema;
      try {
        schema = JSON.parse(textarea.value);
      } catch (error) {
        status.className = "small error-text";
        status.textContent = "JSON: " + error.message;
        return;
      }
      if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
        status.className = "small error-text";
        status.textContent = "The schema must be a JSON object.";
        return;
      }
      model = fromSchema(schema);
      render();
      check();
    }, 200);
  });

  builder.addEventListener("input", (event) => {
    const row = event.target.closest(".bf-row");
    const entry = row && nodes.get(row);
    if (!entry) return;
    const node = entry.node;
    if (event.target.matches(".bf-name")) {
      node.name = event.target.value.trim();
      repath();
    } else if (event.target.matches(".bf-desc")) node.description = event.target.value;
    else if (event.target.matches(".bf-enum")) node.enumText = event.target.value;
    else return;
    toJson();
  });

  // Row paths after a rename, without re-rendering (the focus stays where it is).
  function repath() {
    const parents = new Map();
    for (const entry of nodes.values()) parents.set(entry.node, entry.parent);
    for (const [row, entry] of nodes) {
      let path = "";
      for (let node = entry.node, child = null; node; child = node, node = parents.get(node)) {
        const name = node.name || "(field)";
        path = child === null ? name : name + (node.type === "array_object" ? "[]." : ".") + path;
      }
      row.dataset.schemaField = path;
    }
  }

  builder.addEventListener("change", (event) => {
    const row = event.target.closest(".bf-row");
    const entry = row && nodes.get(row);
    if (!entry) return;
    if (event.target.matches(".bf-type")) {
      entry.node.type = event.target.value;
      if (HAS_CHILDREN.has(entry.node.type) && !entry.node.children.length) entry.node.children = [newNode(1)];
      render();
      focusRow(entry.node, ".bf-type");
    } else if (event.target.matches(".bf-required")) entry.node.required = event.target.checked;
    else return;
    toJson();
  });

  function newNode(n) {
    return { name: `field_${n}`, type: "string", description: "", required: false, enumText: "", children: [], itemType: "string" };
  }
  function focusRow(node, selector) {
    for (const [row, entry] of nodes) if (entry.node === node) return $(selector || ".bf-name", row).focus();
  }

  builder.addEventListener("click", (event) => {
    const row = event.target.closest(".bf-row");
    const entry = row && nodes.get(row);
    if (!entry) return;
    const { node, list, index } = entry;
    if (event.target.closest("[data-remove]")) list.splice(index, 1);
    else if (event.target.closest("[data-move]")) {
      const to = index + Number(event.target.closest("[data-move]").dataset.move);
      if (to < 0 || to >= list.length) return;
      [list[index], list[to]] = [list[to], list[index]];
    } else if (event.target.closest("[data-add-child]")) {
      const child = newNode(node.children.length + 1);
      node.children.push(child);
      render();
      toJson();
      focusRow(child);
      return;
    } else return;
    render();
    toJson();
    if (list[index]) focusRow(list[index]);
  });

  const addRoot = $("[data-add-root]");
  if (addRoot) {
    addRoot.addEventListener("click", () => {
      const node = newNode(model.children.length + 1);
      model.children.push(node);
      render();
      toJson();
      focusRow(node);
    });
  }

  try {
    model = fromSchema(JSON.parse(textarea.value));
  } catch (error) {
    status.className = "small error-text";
    status.textContent = "JSON: " + error.message;
  }
  render();
  check();
})();
