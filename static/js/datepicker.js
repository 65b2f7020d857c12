// A calendar beside each day field (input[data-datepicker]). The field stays a text field that
// reads 24.12.2026 whatever the browser's language (the server parses it: rules/dates.py); the
// calendar is a dialog with a grid of days after the WAI-ARIA date picker dialog pattern:
// arrows move a day or a week, Page Up/Down a month (with Shift a year), Home/End the week's
// first and last day, Enter or Space picks, Escape closes, and the focus returns to the field.
// Names and labels come in the page's language from #datepicker-texts (base.html).
// No inline style or script anywhere: the CSP allows neither.
window.BankDates = (() => {
  const typed = /^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$/;
  const iso = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/;
  // A day as a local noon, so adding days never trips over a daylight saving change.
  const day = (year, month, date) => {
    const result = new Date(2000, 0, 1, 12);
    result.setFullYear(year, month, date);
    return result;
  };
  const exact = (year, month, date) => {
    const result = day(year, month - 1, date);
    return result.getFullYear() === year && result.getMonth() === month - 1
      && result.getDate() === date ? result : null;
  };
  const parse = (text) => {
    let match = typed.exec(text || "");
    if (match) return exact(+match[3], +match[2], +match[1]);
    match = iso.exec(text || "");
    return match ? exact(+match[1], +match[2], +match[3]) : null;
  };
  const format = (d) => `${d.getDate()}.${d.getMonth() + 1}.${d.getFullYear()}`;
  const same = (a, b) => Boolean(a && b) && format(a) === format(b);
  // The days written in a text (not pieces of longer numbers), as rules.dates.mentions_date.
  const written = /(^|[^\d.])(\d{1,2}\.\d{1,2}\.\d{4})(?!\d)/g;
  const replaceDay = (text, old, next) => text.replace(
    written, (whole, before, date) => (same(parse(date), old) ? before + format(next) : whole));
  return { parse, format, same, day, replaceDay };
})();

document.addEventListener("DOMContentLoaded", () => {
  const texts = document.getElementById("datepicker-texts");
  const fields = document.querySelectorAll("input[data-datepicker]");
  if (!texts || !fields.length) return;
  const { parse, format, same, day } = window.BankDates;
  const t = texts.dataset;
  const months = t.months.split("|");
  const weekdays = t.weekdays.split("|");
  const weekdaysLong = t.weekdaysLong.split("|");
  // The bank's today (Helsinki), not the browser's.
  const today = () => parse(t.today) || new Date();

  const addDays = (d, n) => day(d.getFullYear(), d.getMonth(), d.getDate() + n);
  const addMonths = (d, n) => {
    const first = day(d.getFullYear(), d.getMonth() + n, 1);
    const last = day(first.getFullYear(), first.getMonth() + 1, 0).getDate();
    return day(first.getFullYear(), first.getMonth(), Math.min(d.getDate(), last));
  };
  const mondayFirst = (d) => (d.getDay() + 6) % 7;

  const make = (tag, attributes = {}, text = "") => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (text) element.textContent = text;
    return element;
  };

  // One dialog for the page, moved beside the field it serves.
  const dialog = make("div", { role: "dialog", "aria-modal": "true", "aria-labelledby": "datepicker-title",
                               "aria-describedby": "datepicker-keys", class: "datepicker", hidden: "" });
  const head = make("div", { class: "datepicker-head" });
  const previous = make("button", { type: "button", class: "datepicker-step", "aria-label": t.previous }, "‹");
  const title = make("h2", { id: "datepicker-title", "aria-live": "polite" });
  const next = make("button", { type: "button", class: "datepicker-step", "aria-label": t.next }, "›");
  head.append(previous, title, next);
  const grid = make("table", { role: "grid", "aria-labelledby": "datepicker-title" });
  const headings = make("tr");
  weekdays.forEach((name, index) => {
    headings.append(make("th", { scope: "col", abbr: weekdaysLong[index] }, name));
  });
  grid.append(make("thead"), make("tbody"));
  grid.tHead.append(headings);
  const keys = make("p", { id: "datepicker-keys", class: "datepicker-keys" }, t.keys);
  const close = make("button", { type: "button", class: "datepicker-close" }, t.close);
  dialog.append(head, grid, keys, close);

  let field = null; // the input the dialog serves while open
  let shown = null; // the day with the grid's focus

  const render = () => {
    title.textContent = `${months[shown.getMonth()]} ${shown.getFullYear()}`;
    const chosen = parse(field.value);
    const body = grid.tBodies[0];
    body.replaceChildren();
    let cursor = addDays(day(shown.getFullYear(), shown.getMonth(), 1),
                         -mondayFirst(day(shown.getFullYear(), shown.getMonth(), 1)));
    for (let week = 0; week < 6; week += 1) {
      const row = make("tr");
      for (let weekday = 0; weekday < 7; weekday += 1) {
        if (cursor.getMonth() !== shown.getMonth()) {
          row.append(make("td", { class: "datepicker-outside" }));
        } else {
          const cell = make("td", { tabindex: "-1", "data-day": format(cursor) }, String(cursor.getDate()));
          if (same(cursor, chosen)) cell.setAttribute("aria-selected", "true");
          if (same(cursor, today())) cell.setAttribute("aria-current", "date");
          if (same(cursor, shown)) cell.tabIndex = 0;
          row.append(cell);
        }
        cursor = addDays(cursor, 1);
      }
      // A month ends within five weeks more often than not: no empty sixth row then.
      if (week < 5 || row.querySelector("[data-day]")) body.append(row);
    }
  };

  const focusShown = () => grid.querySelector(`[data-day="${format(shown)}"]`).focus();
  const move = (to) => {
    shown = to;
    render();
    focusShown();
  };

  const open = (input) => {
    field = input;
    shown = parse(input.value) || today();
    input.closest(".datepicker-wrap").append(dialog);
    dialog.hidden = false;
    render();
    focusShown();
  };

  const shut = (toField) => {
    if (!field) return;
    dialog.hidden = true;
    if (toField) field.focus();
    field = null;
  };

  const pick = (d) => {
    field.value = format(d);
    // Whoever follows the field (the interim notice's text) hears of it as of typing.
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
    shut(true);
  };

  grid.addEventListener("keydown", (event) => {
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    let to = null;
    if (event.key in steps) to = addDays(shown, steps[event.key]);
    else if (event.key === "PageUp") to = addMonths(shown, event.shiftKey ? -12 : -1);
    else if (event.key === "PageDown") to = addMonths(shown, event.shiftKey ? 12 : 1);
    else if (event.key === "Home") to = addDays(shown, -mondayFirst(shown));
    else if (event.key === "End") to = addDays(shown, 6 - mondayFirst(shown));
    else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      pick(shown);
      return;
    } else return;
    event.preventDefault();
    move(to);
  });
  grid.addEventListener("click", (event) => {
    const cell = event.target.closest("[data-day]");
    if (cell) pick(parse(cell.dataset.day));
  });
  previous.addEventListener("click", () => { shown = addMonths(shown, -1); render(); });
  next.addEventListener("click", () => { shown = addMonths(shown, 1); render(); });
  close.addEventListener("click", () => shut(true));

  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      shut(true);
    } else if (event.key === "Tab") {
      // A modal dialog keeps the focus: Tab goes round its buttons and the grid.
      const stops = [previous, next, grid.querySelector('[tabindex="0"]'), close];
      const at = stops.indexOf(document.activeElement);
      const to = stops[(at + (event.shiftKey ? stops.length - 1 : 1)) % stops.length];
      event.preventDefault();
      to.focus();
    }
  });
  // A click elsewhere on the page closes the calendar and leaves the focus where it went.
  document.addEventListener("pointerdown", (event) => {
    if (field && !dialog.contains(event.target) && !event.target.closest(".datepicker-open")) shut(false);
  });

  for (const input of fields) {
    const wrap = make("span", { class: "datepicker-wrap" });
    input.replaceWith(wrap);
    const label = document.querySelector(`label[for="${input.id}"]`);
    const button = make("button", { type: "button", class: "datepicker-open", "aria-haspopup": "dialog",
                                     "aria-label": label ? `${t.open}: ${label.textContent.trim()}` : t.open });
    const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    icon.setAttribute("viewBox", "0 0 16 16");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M4 1v2H2v12h12V3h-2V1h-1v2H5V1zM3 6h10v8H3zm1 1v2h2V7zm3 0v2h2V7zm3 0v2h2V7zM4 10v2h2v-2zm3 0v2h2v-2z");
    icon.append(path);
    button.append(icon);
    wrap.append(input, button);
    button.addEventListener("click", () => (field === input ? shut(true) : open(input)));
    // Alt+Down opens the calendar from the field itself, as a select's list opens.
    input.addEventListener("keydown", (event) => {
      if (event.altKey && event.key === "ArrowDown") {
        event.preventDefault();
        open(input);
      }
    });
  }
});
