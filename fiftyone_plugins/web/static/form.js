// The operator page: builds the form from the field descriptions the server derives from
// resolve_input, re-resolves dynamic operators as fields change, executes or schedules, and
// shows the result as resolve_output describes it. Text goes in with textContent only.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("operator");
  if (!root) return;
  const { api, el, pretty } = window.FOP;
  const uri = root.dataset.uri;
  const fieldsBox = document.getElementById("fields");
  const formNode = document.getElementById("operator-form");
  const executeButton = document.getElementById("execute-button");
  const scheduleButton = document.getElementById("schedule-button");
  const status = document.getElementById("run-status");
  const formErrors = document.getElementById("form-errors");
  const resolveError = document.getElementById("resolve-error");
  let inputs = []; // {path, get(), box}
  let dynamic = false;
  let current = {};
  let timer = null;

  // -- values by dotted path ------------------------------------------------------------------
  function lookup(data, path) {
    let value = data;
    for (const key of path.split(".")) {
      if (value === null || typeof value !== "object" || !(key in value)) return undefined;
      value = value[key];
    }
    return value;
  }

  function assign(data, path, value) {
    const keys = path.split(".");
    let target = data;
    for (const key of keys.slice(0, -1)) {
      if (target[key] === null || typeof target[key] !== "object") target[key] = {};
      target = target[key];
    }
    target[keys[keys.length - 1]] = value;
  }

  function initial(field) {
    const value = lookup(current, field.path);
    if (value !== undefined) return value;
    if (field.widget === "json") return undefined;
    return field.default === null ? undefined : field.default;
  }

  // -- markdown (blocks of spans, built by the server from a safe subset) -------------------------
  function spans(list) {
    return list.map((s) => {
      if (s.t === "strong") return el("strong", {}, s.v);
      if (s.t === "em") return el("em", {}, s.v);
      if (s.t === "code") return el("code", {}, s.v);
      if (s.t === "a") return el("a", { href: s.href, rel: "noopener noreferrer" }, s.v);
      return s.v;
    });
  }

  function markdown(blocks) {
    return el(
      "div",
      { class: "markdown" },
      blocks.map((b) => {
        if (b.t === "h") return el("h" + Math.min(6, b.level + 2), {}, spans(b.spans));
        if (b.t === "pre") return el("pre", {}, b.v);
        if (b.t === "ul" || b.t === "ol")
          return el(b.t, {}, b.items.map((item) => el("li", {}, spans(item))));
        return el("p", {}, spans(b.spans));
      })
    );
  }

  // -- building fields ----------------------------------------------------------------------------
  function wrap(field, control, inline) {
    const id = "f-" + field.path.replace(/[^A-Za-z0-9_-]/g, "_");
    control.id = id;
    const label = el(
      "label",
      { for: id, class: "field-label" },
      field.label || field.name,
      field.required ? el("span", { class: "required", title: "required" }, " *") : null
    );
    const box = el(
      "div",
      { class: "field" + (inline ? " inline" : ""), "data-path": field.path },
      inline ? [control, label] : [label, control],
      field.description ? el("p", { class: "help" }, field.description) : null,
      field.caption ? el("p", { class: "help" }, field.caption) : null,
      el("p", { class: "field-error", hidden: !field.error }, field.error || "")
    );
    if (field.read_only) control.disabled = true;
    return box;
  }

  function register(field, box, get) {
    inputs.push({ path: field.path, get, box });
  }

  function choiceIndex(choices, value) {
    return choices.findIndex((c) => JSON.stringify(c.value) === JSON.stringify(value));
  }

  function onChange(node) {
    node.addEventListener("change", scheduleResolve);
    if (node.tagName === "INPUT" || node.tagName === "TEXTAREA") {
      node.addEventListener("input", scheduleResolve);
    }
  }

  function build(field) {
    const value = initial(field);
    switch (field.widget) {
      case "notice": {
        const text = [field.label, field.description].filter(Boolean).join(" — ");
        const note = field.unsupported ? ` (the ${field.view} view is shown as text)` : "";
        return el("p", { class: "notice " + field.severity }, (text || field.name) + note);
      }
      case "header":
        return el(
          "div",
          { class: "form-header" },
          el("h3", {}, field.label || ""),
          field.description ? el("p", { class: "help" }, field.description) : null
        );
      case "markdown":
        return markdown(field.blocks);
      case "button":
        return el(
          "p",
          {},
          el(
            "button",
            { type: "button", disabled: true, title: "runs " + (field.operator || "") + " in the App" },
            field.label || field.name
          )
        );
      case "link":
        return field.href
          ? el("p", {}, el("a", { href: field.href, rel: "noopener noreferrer" }, field.label || field.href))
          : el("p", {}, field.label || "");
      case "hidden":
        register(field, null, () => value);
        return null;
      case "object": {
        const children = field.fields.map(build).filter(Boolean);
        return el(
          "fieldset",
          { class: "object", "data-path": field.path },
          el("legend", {}, field.label || field.name),
          field.description ? el("p", { class: "help" }, field.description) : null,
          children
        );
      }
      case "checkbox": {
        const input = el("input", { type: "checkbox" });
        input.checked = Boolean(value);
        onChange(input);
        const box = wrap(field, input, true);
        register(field, box, () => input.checked);
        return box;
      }
      case "number": {
        const input = el("input", {
          type: "number",
          step: field.integer ? "1" : "any",
          min: field.min,
          max: field.max,
        });
        if (value !== undefined && value !== null) input.value = String(value);
        onChange(input);
        const box = wrap(field, input);
        register(field, box, () => (input.value === "" ? null : Number(input.value)));
        return box;
      }
      case "select": {
        const select = el("select", {}, el("option", { value: "" }, "—"));
        field.choices.forEach((c, i) => select.append(el("option", { value: String(i) }, c.label)));
        const at = choiceIndex(field.choices, value);
        select.value = at >= 0 ? String(at) : "";
        onChange(select);
        const box = wrap(field, select);
        register(field, box, () => (select.value === "" ? null : field.choices[Number(select.value)].value));
        return box;
      }
      case "radio": {
        const group = el("div", { class: "radios", role: "radiogroup" });
        const at = choiceIndex(field.choices, value);
        const name = "r-" + field.path;
        field.choices.forEach((c, i) => {
          const input = el("input", { type: "radio", name, value: String(i) });
          input.checked = i === at;
          onChange(input);
          group.append(
            el("label", { class: "choice", title: c.description }, input, " ", c.label)
          );
        });
        const box = wrap(field, group);
        register(field, box, () => {
          const checked = group.querySelector("input:checked");
          return checked ? field.choices[Number(checked.value)].value : null;
        });
        return box;
      }
      case "multiselect": {
        const group = el("div", { class: "radios" });
        const chosen = Array.isArray(value) ? value.map((v) => JSON.stringify(v)) : [];
        field.choices.forEach((c, i) => {
          const input = el("input", { type: "checkbox", value: String(i) });
          input.checked = chosen.includes(JSON.stringify(c.value));
          onChange(input);
          group.append(el("label", { class: "choice" }, input, " ", c.label));
        });
        const box = wrap(field, group);
        register(field, box, () =>
          Array.from(group.querySelectorAll("input:checked")).map((i) => field.choices[Number(i.value)].value)
        );
        return box;
      }
      case "list": {
        const area = el("textarea", { rows: "3", placeholder: "one item per line" });
        if (Array.isArray(value)) area.value = value.join("\n");
        onChange(area);
        const box = wrap(field, area);
        register(field, box, () => {
          const items = area.value.split("\n").map((s) => s.trim()).filter(Boolean);
          if (field.element !== "number") return items;
          return items.map((s) => (s !== "" && Number.isFinite(Number(s)) ? Number(s) : s));
        });
        return box;
      }
      case "file": {
        const input = el("input", { type: "text", placeholder: field.placeholder || "/path/to/file" });
        if (value && typeof value === "object") input.value = value.absolute_path || "";
        onChange(input);
        const box = wrap(field, input);
        register(field, box, () => (input.value ? { absolute_path: input.value } : null));
        return box;
      }
      case "upload": {
        // read in the browser and sent as UploadedFile's fields (content base64-encoded)
        const input = el("input", { type: "file" });
        let uploaded = null;
        input.addEventListener("change", () => {
          const file = input.files[0];
          if (!file) {
            uploaded = null;
            return;
          }
          const reader = new FileReader();
          reader.addEventListener("load", () => {
            uploaded = {
              name: file.name,
              type: file.type,
              size: file.size,
              content: String(reader.result).split(",", 2)[1] || "",
              last_modified: file.lastModified,
            };
            scheduleResolve();
          });
          reader.readAsDataURL(file);
        });
        const box = wrap(field, input);
        register(field, box, () => uploaded);
        return box;
      }
      case "json": {
        const area = el("textarea", { rows: "4", class: "mono", placeholder: "JSON" });
        const known = lookup(current, field.path);
        if (known !== undefined) area.value = pretty(known);
        else if (field.default !== null) area.value = field.default;
        onChange(area);
        const box = wrap(field, area);
        register(field, box, () => {
          if (area.value.trim() === "") return null;
          try {
            return JSON.parse(area.value);
          } catch (e) {
            throw { path: field.path, reason: "Not valid JSON: " + e.message };
          }
        });
        box.querySelector(".field-label").append(el("span", { class: "muted" }, " (JSON)"));
        return box;
      }
      case "textarea":
      case "text":
      default: {
        const input =
          field.widget === "textarea"
            ? el("textarea", { rows: "4", class: "mono" })
            : el("input", { type: "text", placeholder: field.placeholder });
        if (value !== undefined && value !== null) input.value = String(value);
        onChange(input);
        const box = wrap(field, input);
        register(field, box, () => (input.value === "" ? null : input.value));
        return box;
      }
    }
  }

  function collect() {
    const params = {};
    for (const input of inputs) {
      const value = input.get();
      if (value !== null && value !== undefined) assign(params, input.path, value);
    }
    return params;
  }

  // -- resolving ----------------------------------------------------------------------------------
  function render(answer) {
    resolveError.hidden = !answer.error;
    resolveError.textContent = answer.error || "";
    dynamic = answer.dynamic;
    inputs = [];
    const nodes = answer.form.fields.map(build).filter(Boolean);
    fieldsBox.replaceChildren(...(nodes.length ? nodes : [el("p", { class: "muted" }, "This operator takes no inputs.")]));
    const options = answer.options || {};
    executeButton.hidden = !options.immediate;
    scheduleButton.hidden = !options.delegated;
    if (answer.form.submit_label) executeButton.textContent = answer.form.submit_label;
    if (options.default_delegated || !options.immediate) {
      scheduleButton.classList.add("primary");
      executeButton.classList.remove("primary");
    }
  }

  async function resolve(params) {
    try {
      render(await api("POST", "/api/operators/resolve", { uri, params }));
    } catch (e) {
      resolveError.hidden = false;
      resolveError.textContent = e.message;
    }
  }

  function scheduleResolve() {
    if (!dynamic) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        current = collect();
      } catch (e) {
        return; // invalid JSON is reported when submitting
      }
      const focused = document.activeElement && document.activeElement.id;
      resolve(current).then(() => {
        const again = focused && document.getElementById(focused);
        if (again) again.focus();
      });
    }, 350);
  }

  // -- errors and results ---------------------------------------------------------------------------
  function clearErrors() {
    formErrors.hidden = true;
    formErrors.textContent = "";
    for (const p of fieldsBox.querySelectorAll(".field-error")) {
      p.hidden = true;
      p.textContent = "";
    }
    for (const box of fieldsBox.querySelectorAll(".field.invalid")) box.classList.remove("invalid");
  }

  function showFieldError(path, reason) {
    let target = path;
    while (target) {
      const box = fieldsBox.querySelector(`.field[data-path="${CSS.escape(target)}"]`);
      if (box) {
        box.classList.add("invalid");
        const p = box.querySelector(".field-error");
        p.hidden = false;
        p.textContent = p.textContent ? p.textContent + "; " + reason : reason;
        return;
      }
      const cut = Math.max(target.lastIndexOf("."), target.lastIndexOf("["));
      target = cut > 0 ? target.slice(0, cut) : "";
    }
    formErrors.hidden = false;
    formErrors.textContent += (formErrors.textContent ? "\n" : "") + `${path}: ${reason}`;
  }

  function section(title, ...body) {
    return el("div", { class: "result-section" }, el("h3", {}, title), body);
  }

  function outputValue(field, result) {
    const value = result && typeof result === "object" ? lookup(result, field.path) : undefined;
    if (["notice", "header", "markdown", "link", "button"].includes(field.widget)) {
      return build({ ...field, widget: field.widget });
    }
    if (field.widget === "object") {
      return el("fieldset", { class: "object" }, el("legend", {}, field.label || field.name),
        field.fields.map((f) => outputValue(f, result)));
    }
    const shown =
      value === undefined ? "" : typeof value === "object" ? pretty(value) : String(value);
    return el(
      "div",
      { class: "output", "data-path": field.path },
      el("span", { class: "field-label" }, field.label || field.name),
      typeof value === "object" && value !== null ? el("pre", { class: "json" }, shown) : el("span", { class: "output-value" }, shown),
      field.description ? el("p", { class: "help" }, field.description) : null
    );
  }

  function showResult(answer) {
    const box = document.getElementById("result");
    const body = document.getElementById("result-body");
    const parts = [];
    if (answer.delegated) {
      parts.push(
        el("p", { class: "notice success", id: "scheduled" }, "Scheduled as delegated operation ",
          el("a", { href: "/runs/" + answer.operation_id }, answer.operation_id),
          "; a worker (`fiftyone-plugins delegated launch`) will run it.")
      );
    } else if (!answer.ok) {
      parts.push(el("p", { class: "notice error", id: "run-error" }, answer.error));
      if (answer.trace) parts.push(el("details", {}, el("summary", {}, "Traceback"), el("pre", { class: "trace" }, answer.trace)));
    } else if (answer.outputs && answer.outputs.fields.length) {
      parts.push(el("div", { id: "outputs" }, answer.outputs.fields.map((f) => outputValue(f, answer.result))));
    } else {
      parts.push(el("pre", { class: "json", id: "result-json" }, pretty(answer.result)));
    }
    if (answer.yielded && answer.yielded.length) {
      parts.push(section("Yielded", el("ol", { class: "yielded" }, answer.yielded.map((y) => el("li", {}, el("code", {}, pretty(y)))))));
    }
    if (answer.requests.length) {
      parts.push(
        section("Triggers",
          el("table", { class: "table", id: "triggers" },
            el("thead", {}, el("tr", {}, el("th", {}, "operator"), el("th", {}, "params"))),
            el("tbody", {}, answer.requests.map((r) =>
              el("tr", {}, el("td", { class: "mono" }, r.operator_uri), el("td", {}, el("code", {}, JSON.stringify(r.params))))))))
      );
    }
    if (answer.logs.length) {
      parts.push(section("Logs", el("pre", { class: "trace", id: "logs" }, answer.logs.join("\n"))));
    }
    body.replaceChildren(...parts);
    box.hidden = false;
  }

  formNode.addEventListener("submit", async (event) => {
    event.preventDefault();
    const mode = (event.submitter && event.submitter.dataset.mode) || "execute";
    clearErrors();
    let params;
    try {
      params = collect();
    } catch (e) {
      showFieldError(e.path, e.reason);
      return;
    }
    status.textContent = mode === "schedule" ? "Scheduling…" : "Running…";
    executeButton.disabled = scheduleButton.disabled = true;
    // an immediate run reports its progress (ctx.set_progress) while it runs: poll for it
    const run = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
      b.toString(16).padStart(2, "0")).join("");
    let polling = null;
    if (mode !== "schedule") {
      polling = setInterval(async () => {
        try {
          const live = await api("GET", "/api/operators/progress?run=" + run);
          if (live.progress == null && live.label == null) return;
          const percent = live.progress == null ? "" : Math.round(live.progress * 100) + "% ";
          status.textContent = "Running… " + percent + (live.label || "");
        } catch (e) {
          /* the run's own answer reports any failure */
        }
      }, 300);
    }
    try {
      const answer = await api("POST", "/api/operators/execute", { uri, params, delegate: mode === "schedule", run });
      if (answer.validation.length) {
        for (const issue of answer.validation) showFieldError(issue.path, issue.reason);
        status.textContent = "Please fix the highlighted fields.";
        return;
      }
      status.textContent = answer.delegated ? "Scheduled." : answer.ok ? "Done." : "Failed.";
      showResult(answer);
    } catch (e) {
      status.textContent = "";
      formErrors.hidden = false;
      formErrors.textContent = e.message;
    } finally {
      if (polling !== null) clearInterval(polling);
      executeButton.disabled = scheduleButton.disabled = false;
    }
  });

  resolve({});
});
