// The agent graph, from `/api/v1/graph` (the graph the engine compiled): nodes by depth from
// `start`, each lighting up on `node_started` and dimming on `node_finished`.

import { getJson } from '../api.js';
import { on } from '../events.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 124;
const H = 30;
const GAP_X = 16;
const GAP_Y = 26;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

/** Depth of each node: the longest path from `start`, loops' way back left out. */
function depths(names, edges) {
  const forward = edges.filter((e) => e.kind.kind !== 'loop_back');
  const depth = new Map([['start', 0]]);
  for (let round = 0; round <= names.length + 1; round += 1) {
    let changed = false;
    for (const e of forward) {
      if (!depth.has(e.from)) continue;
      const d = depth.get(e.from) + 1;
      if ((depth.get(e.to) ?? -1) < d) { depth.set(e.to, d); changed = true; }
    }
    if (!changed) break;
  }
  for (const n of names) if (!depth.has(n)) depth.set(n, 1);
  return depth;
}

function draw(graph) {
  const names = ['start', ...graph.nodes.map((n) => n.name), 'end'];
  const depth = depths(names, graph.edges);
  const levels = [];
  for (const n of names) (levels[depth.get(n)] ??= []).push(n);
  const widest = Math.max(...levels.map((l) => l?.length ?? 0));
  const width = widest * (W + GAP_X) + GAP_X;
  const at = new Map();
  levels.forEach((level, row) => {
    if (!level) return;
    const offset = (width - level.length * (W + GAP_X) + GAP_X) / 2;
    level.forEach((name, i) => at.set(name, { x: offset + i * (W + GAP_X), y: GAP_Y / 2 + row * (H + GAP_Y) }));
  });
  const height = levels.length * (H + GAP_Y);
  const root = document.getElementById('graph');
  root.setAttribute('viewBox', `0 0 ${width} ${height}`);
  root.replaceChildren();
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }));
  defs.append(marker);
  root.append(defs);
  for (const e of graph.edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const back = e.kind.kind === 'loop_back';
    const x1 = a.x + W / 2;
    const x2 = b.x + W / 2;
    const y1 = back ? a.y : a.y + H;
    const y2 = back ? b.y + H : b.y;
    const bend = back ? Math.max(W * 0.9, Math.abs(y1 - y2)) : 0;
    const d = back
      ? `M${a.x + W},${y1 + H / 2} C${a.x + W + bend / 2},${y1} ${b.x + W + bend / 2},${y2} ${b.x + W},${y2 - H / 2}`
      : `M${x1},${y1} C${x1},${(y1 + y2) / 2} ${x2},${(y1 + y2) / 2} ${x2},${y2}`;
    const path = svg('path', { d, class: `edge ${e.kind.kind}`, 'marker-end': 'url(#arrow)' });
    path.append(svg('title', {}, `${e.from} → ${e.to} (${e.kind.label ?? e.kind.name ?? e.kind.kind})`));
    root.append(path);
  }
  for (const name of names) {
    const p = at.get(name);
    const end = name === 'start' || name === 'end';
    const g = svg('g', { class: end ? 'node terminal' : 'node', 'data-node': name, transform: `translate(${p.x},${p.y})` });
    g.append(svg('rect', { width: W, height: H, rx: end ? H / 2 : 6 }));
    g.append(svg('text', { x: W / 2, y: H / 2, 'dominant-baseline': 'central', 'text-anchor': 'middle' }, name.replaceAll('_', ' ')));
    root.append(g);
  }
  root.setAttribute('aria-label', `The trading graph ${graph.name}: ${graph.nodes.length} nodes, ${graph.edges.length} edges`);
  document.getElementById('dashboard').dataset.graphNodes = String(graph.nodes.length);
}

let cycle = null;

function node(name) {
  return document.querySelector(`#graph g[data-node="${CSS.escape(name)}"]`);
}

function begin(decisionId) {
  if (decisionId === cycle) return;
  cycle = decisionId;
  for (const g of document.querySelectorAll('#graph g.node')) g.classList.remove('running', 'done');
  document.getElementById('graph-cycle').textContent = decisionId;
}

/** Draws the graph and follows the cycles. */
export async function start() {
  on('node_started', (e) => {
    begin(e.decision_id);
    const g = node(e.node);
    if (g) { g.classList.remove('done'); g.classList.add('running'); }
  });
  on('node_finished', (e) => {
    begin(e.decision_id);
    const g = node(e.node);
    if (g) { g.classList.remove('running'); g.classList.add('done'); }
  });
  draw(await getJson('/api/v1/graph'));
}
