// Small DOM and formatting helpers shared by the panels (no framework).

/** An element `tag` with `attrs` (class, aria-*, data-*, ...) and `children` (nodes or text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces the children of the element with id `id`. */
export function fill(id, ...children) {
  const node = document.getElementById(id);
  if (node) node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

/** A table with a caption-less header row and `rows` (arrays of cells), or `empty` text. */
export function table(headers, rows, empty = 'None') {
  if (!rows.length) return el('p', { class: 'muted' }, empty);
  return el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((row) => el('tr', {}, row.map((cell) => el('td', {}, cell))))));
}

/** A number (or decimal string) with `digits` fraction digits; a dash when missing. */
export function num(value, digits = 2) {
  if (value === null || value === undefined || value === '') return '–';
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return n.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A signed amount, with a class for its sign. */
export function signed(value, digits = 2) {
  const n = Number(value);
  const cls = !Number.isFinite(n) || n === 0 ? 'flat' : n > 0 ? 'up' : 'down';
  return el('span', { class: cls }, (n > 0 ? '+' : '') + num(value, digits));
}

/** A time as the browser's local time. */
export function when(value) {
  if (!value) return '–';
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? String(value) : t.toLocaleString();
}

/** A chart's time (Unix seconds) as its crosshair shows it: in the browser's time zone, as
 * the rest of the dashboard shows times (the chart library would show UTC). */
export function timeLabel(time) {
  return new Date(time * 1000).toLocaleString([], {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** A tick of a chart's time axis (`type`: the chart library's year, month, day, time, time
 * with seconds), in the browser's time zone. */
export function tickLabel(time, type) {
  const d = new Date(time * 1000);
  switch (type) {
    case 0: return String(d.getFullYear());
    case 1: return d.toLocaleDateString([], { month: 'short' });
    case 2: return d.toLocaleDateString([], { day: 'numeric', month: 'short' });
    case 4: return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    default: return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
}

/** A confidence in [0, 1] as a percentage. */
export function pct(value) {
  return value === null || value === undefined ? '–' : `${Math.round(Number(value) * 100)}%`;
}

/** A badge: `text` with a state class (`ok`, `warn`, `bad`, `info`). */
export function badge(text, state = 'info', label = null) {
  return el('span', { class: `badge ${state}`, 'aria-label': label }, text);
}
