// Shared helpers of every page. Plugin-supplied text only ever reaches the page through
// textContent or setAttribute (see el()): never through innerHTML.
"use strict";

window.FOP = (() => {
  // Calls the JSON API; state-changing calls carry the header the server requires.
  async function api(method, url, body) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-FOP-Request": "1" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let data;
    try {
      data = await response.json();
    } catch (e) {
      data = { error: response.statusText };
    }
    if (!response.ok && response.status !== 207) {
      const error = new Error((data && data.error) || response.statusText);
      error.data = data;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // Builds an element: attrs are set with setAttribute (class via className); children are
  // nodes or strings (strings become text nodes).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function flash(message, kind) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.className = "flash " + (kind || "info");
    box.textContent = message;
    box.hidden = false;
  }

  function selected(root) {
    return Array.from((root || document).querySelectorAll("input.select:checked")).map(
      (input) => input.value
    );
  }

  function wireSelectAll() {
    for (const all of document.querySelectorAll("input.select-all")) {
      all.addEventListener("change", () => {
        const table = all.closest("table");
        for (const box of table.querySelectorAll("input.select")) box.checked = all.checked;
      });
    }
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  // a backtick opens the operator browser, as in the FiftyOne App
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "`" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      window.location.href = "/operators";
    }
  });

  document.addEventListener("DOMContentLoaded", wireSelectAll);
  return { api, el, flash, selected, pretty };
})();
