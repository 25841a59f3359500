// Reading aids of the book. No dependency, nothing fetched.
document.addEventListener("DOMContentLoaded", () => {
  // 1. Tables with class "sortable": a button in each heading sorts by that column
  //    (again: reverse). Numbers sort as numbers, the rest as text.
  document.querySelectorAll("table.sortable").forEach((table) => {
    const body = table.tBodies[0];
    if (!body) return;
    const heads = Array.from(table.querySelectorAll("thead th"));
    heads.forEach((th, col) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", () => {
        const asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach((h) => h.setAttribute("aria-sort", "none"));
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        const key = (row) => (row.cells[col] ? row.cells[col].textContent.trim() : "");
        const rows = Array.from(body.rows);
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const num = /^-?[\d,]*\.?\d+$/;
          const c = num.test(x) && num.test(y)
            ? parseFloat(x.replace(/,/g, "")) - parseFloat(y.replace(/,/g, ""))
            : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach((r) => body.appendChild(r));
      });
    });
  });
  // 2. The theme's controls: an accessible name that contains the visible text (WCAG 2.5.3).
  document.querySelectorAll("button[aria-label], a[aria-label], summary[aria-label]").forEach((el) => {
    const visible = (el.innerText || "").replace(/\s+/g, " ").trim();
    const label = el.getAttribute("aria-label") || "";
    if (visible && !label.toLowerCase().includes(visible.toLowerCase())) {
      el.setAttribute("aria-label", visible);
    }
  });
  document.querySelectorAll(".theme-switch[title]").forEach((icon) => icon.removeAttribute("title"));
  // 5. The menu and contents buttons. Both themes bind their click handlers to the first
  //    .primary-toggle (.secondary-toggle) of the page, which pydata-sphinx-theme hides in this
  //    layout; the visible buttons in the book theme's header got none, so on a phone neither
  //    the chapter list nor the page outline could be opened. A visible one now clicks the first.
  ["primary-toggle", "secondary-toggle"].forEach((name) => {
    const buttons = Array.from(document.querySelectorAll("." + name));
    buttons.slice(1).forEach((button) => button.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      buttons[0].click();
    }));
  });
  // 6. Tables with class "filterable": a box above the table keeps the rows that contain the
  //    text typed into it, and says how many it keeps.
  document.querySelectorAll("table.filterable").forEach((table, i) => {
    const body = table.tBodies[0];
    if (!body) return;
    const box = document.createElement("div");
    box.className = "table-filter";
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "search";
    input.id = "table-filter-" + i;
    label.htmlFor = input.id;
    label.textContent = "Filter the rows:";
    const count = document.createElement("span");
    count.setAttribute("aria-live", "polite");
    box.append(label, input, count);
    const anchor = table.closest(".pst-scrollable-table-container") || table;
    anchor.parentNode.insertBefore(box, anchor);
    input.addEventListener("input", () => {
      const text = input.value.trim().toLowerCase();
      const rows = Array.from(body.rows);
      rows.forEach((row) => { row.hidden = text !== "" && !row.textContent.toLowerCase().includes(text); });
      const kept = rows.filter((row) => !row.hidden).length;
      count.textContent = text ? kept + " of " + rows.length + " rows" : "";
    });
  });
  // 3. docutils marks the bibliography as a list without list items.
  document.querySelectorAll('.citation-list[role="list"]').forEach((list) => {
    Array.from(list.children).forEach((item) => item.setAttribute("role", "listitem"));
  });
});

// 7. The scroll box of each table in the article is marked "table-box" (on a phone it runs
//    from edge to edge, custom.css), and "wide-table" when the table is wider than the text
//    column (on a desktop it may use the page's right margin).
function markWide() {
  const article = document.querySelector(".bd-article");
  if (!article) return;
  const style = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const wide = new Map();
  article.querySelectorAll("table").forEach((table) => {
    const box = table.closest(".pst-scrollable-table-container") || table;
    wide.set(box, wide.get(box) || table.scrollWidth > column + 1);
  });
  wide.forEach((isWide, box) => {
    box.classList.add("table-box");
    box.classList.toggle("wide-table", isWide);
  });
}
document.addEventListener("DOMContentLoaded", markWide);
window.addEventListener("load", markWide);
window.addEventListener("resize", markWide);

// 4. A region that scrolls sideways (a wide table on a phone) can be reached and scrolled with
//    the keyboard.
function markScrollable() {
  document.querySelectorAll(".bd-article table, .bd-article .cell_output, .bd-article .output, .bd-article pre")
    .forEach((el) => {
      if (el.scrollWidth > el.clientWidth + 1) {
        el.setAttribute("tabindex", "0");
        if (!el.getAttribute("aria-label") && el.tagName === "TABLE" && el.caption) {
          el.setAttribute("aria-label", el.caption.textContent.trim().slice(0, 120));
        }
      }
    });
}
window.addEventListener("load", markScrollable);
window.addEventListener("resize", markScrollable);
