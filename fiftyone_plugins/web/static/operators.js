// The operator browser's search: filters the listed operators as you type.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("operator-search");
  const list = document.getElementById("operator-list");
  if (!input || !list) return;
  const empty = document.getElementById("operator-empty");
  const count = document.getElementById("operator-count");
  function filter() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const item of list.children) {
      const text = item.dataset.search || "";
      const match = words.every((w) => text.includes(w));
      item.hidden = !match;
      if (match) shown += 1;
    }
    empty.hidden = shown > 0;
    count.textContent = String(shown);
  }
  input.addEventListener("input", filter);
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const first = Array.from(list.children).find((item) => !item.hidden);
    if (first) {
      event.preventDefault();
      first.querySelector("a").click();
    }
  });
  filter();
});
