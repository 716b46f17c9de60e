// The Plugins pages: enable/disable/delete one or many, and installs with live progress.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, el, flash, selected } = window.FOP;

  for (const button of document.querySelectorAll("[data-plugin-action]")) {
    button.addEventListener("click", async () => {
      const action = button.dataset.pluginAction;
      const names = button.dataset.one ? [button.dataset.one] : selected(document.getElementById("plugins-table"));
      if (!names.length) {
        flash("Select plugins first.", "warning");
        return;
      }
      if (action === "delete" && !window.confirm(`Delete ${names.join(", ")} from disk?`)) return;
      try {
        const answer = await api("POST", "/api/plugins/" + action, { names });
        if (answer.errors.length) {
          flash(answer.errors.join("\n"), "error");
          return;
        }
        if (action === "delete" && button.dataset.one) window.location.href = "/plugins";
        else window.location.reload();
      } catch (e) {
        flash(e.message, "error");
      }
    });
  }

  const form = document.getElementById("install-form");
  if (!form) return;
  const box = document.getElementById("install-progress");
  const bar = document.getElementById("install-bar");
  const statusNode = document.getElementById("install-status");
  const errors = document.getElementById("install-errors");
  const rowsTable = document.getElementById("install-rows");

  function size(bytes) {
    return bytes > 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.round(bytes / 1024) + " KB";
  }

  function show(job) {
    if (job.total) {
      bar.max = job.total;
      bar.value = job.done;
    } else {
      bar.removeAttribute("value");
    }
    statusNode.textContent =
      job.state === "running"
        ? "Downloading " + (job.done ? size(job.done) + (job.total ? " of " + size(job.total) : "") : "…")
        : job.summary || (job.state === "failed" ? "Install failed" : "Done");
    errors.replaceChildren(...job.errors.map((line) => el("li", {}, "error: " + line)));
    rowsTable.hidden = !job.rows.length;
    rowsTable.tBodies[0].replaceChildren(
      ...job.rows.map((r) => el("tr", {}, el("td", {}, r.plugin), el("td", {}, r.status), el("td", { class: "mono" }, r.directory), el("td", {}, r.note)))
    );
    if (job.state !== "running") bar.max = bar.value = 1;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      source: data.get("source"),
      plugin_names: data.get("plugin_names"),
      max_depth: Number(data.get("max_depth") || 3),
      overwrite: data.get("overwrite") === "on",
    };
    box.hidden = false;
    try {
      const job = await api("POST", "/api/plugins/install", body);
      show(job);
      const source = new EventSource(`/api/installs/${job.id}/stream`);
      source.addEventListener("install", (e) => {
        const state = JSON.parse(e.data);
        show(state);
        if (state.state !== "running") source.close();
      });
      source.addEventListener("error", () => source.close());
    } catch (e) {
      errors.replaceChildren(el("li", {}, "error: " + e.message));
    }
  });
});
