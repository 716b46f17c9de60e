// The runs pages: live state and progress over server-sent events, and the actions
// (rerun, mark failed, delete) on one or many operations.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, el, flash, selected } = window.FOP;
  const live = document.getElementById("live-status");

  function progressNodes(row) {
    const nodes = [];
    if (row.progress !== null && row.progress !== undefined) {
      nodes.push(el("progress", { max: "100", value: String(row.progress) }), ` ${row.progress}% `);
    }
    if (row.progress_label) nodes.push(row.progress_label);
    return nodes;
  }

  // the server's format for timestamps: "YYYY-MM-DD HH:MM:SS" (UTC)
  function when(iso) {
    return iso ? iso.slice(0, 19).replace("T", " ") : "";
  }

  function setState(node, state) {
    node.className = "state " + state;
    node.textContent = state;
  }

  function listen(ids, query, onRows, onTotal) {
    const url = "/api/runs/stream?ids=" + encodeURIComponent(ids.join(",")) + (query ? "&" + query : "");
    const source = new EventSource(url);
    source.addEventListener("open", () => live && live.classList.add("on"));
    source.addEventListener("error", () => live && live.classList.remove("on"));
    source.addEventListener("rows", (event) => onRows(JSON.parse(event.data)));
    if (onTotal) source.addEventListener("total", (event) => onTotal(JSON.parse(event.data).total));
    window.addEventListener("beforeunload", () => source.close());
    return source;
  }

  // -- the list ----------------------------------------------------------------------------------
  const table = document.getElementById("runs-table");
  if (table) {
    const ids = (table.dataset.ids || "").split(",").filter(Boolean);
    const totalNode = document.getElementById("runs-total");
    const initialTotal = Number(totalNode.textContent);
    listen(ids, table.dataset.query, ({ rows }) => {
      for (const row of rows) {
        const tr = table.querySelector(`tr[data-id="${CSS.escape(row.id)}"]`);
        if (!tr) continue;
        setState(tr.querySelector('[data-field="state"]'), row.state);
        tr.querySelector('[data-field="progress"]').replaceChildren(...progressNodes(row));
        for (const key of ["finished_at", "worker", "error"]) {
          const value = row[key] || "";
          tr.querySelector(`[data-field="${key}"]`).textContent =
            key === "finished_at" ? when(value) : value;
        }
      }
    }, (total) => {
      totalNode.textContent = String(total);
      document.getElementById("runs-changed").hidden = total === initialTotal;
    });
  }

  // -- one operation ---------------------------------------------------------------------------------
  const run = document.getElementById("run");
  if (run) {
    listen([run.dataset.id], "", ({ rows, gone }) => {
      if (gone && gone.length) {
        flash("This operation was deleted.", "warning");
        return;
      }
      for (const row of rows) {
        setState(document.getElementById("run-state"), row.state);
        document.getElementById("run-progress").replaceChildren(...progressNodes(row));
        if (row.state !== run.dataset.state && ["completed", "failed"].includes(row.state)) {
          window.location.reload(); // outputs, error and timestamps are rendered by the server
        }
      }
    });
  }

  // -- actions ---------------------------------------------------------------------------------------
  for (const button of document.querySelectorAll("[data-run-action]")) {
    button.addEventListener("click", async () => {
      const action = button.dataset.runAction;
      const ids = button.dataset.one ? [button.dataset.one] : selected(table);
      if (!ids.length) {
        flash("Select operations first.", "warning");
        return;
      }
      if (action === "delete" && !window.confirm(`Delete ${ids.length} operation(s)?`)) return;
      try {
        const answer = await api("POST", "/api/runs/" + action, { ids });
        if (action === "rerun" && button.dataset.one) {
          window.location.href = "/runs/" + answer.new_ids[0];
        } else if (action === "delete" && button.dataset.one) {
          window.location.href = "/runs";
        } else {
          window.location.reload();
        }
      } catch (e) {
        flash(e.message, "error");
      }
    });
  }
});
