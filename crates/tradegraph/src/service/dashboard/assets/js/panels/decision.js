// The latest decision: every agent's signal, confidence and reasoning, the debate, the guard's
// findings and the orders; replaced when a `decision` event arrives.

import { coalesce, getJson } from '../api.js';
import { badge, el, fill, pct, table, when } from '../dom.js';
import { on } from '../events.js';

let wanted = null;
let event = null;
let arrivedAt = null;

function signalBadge(signal) {
  const s = String(signal ?? '').toUpperCase();
  return badge(s || '–', s === 'BUY' ? 'ok' : s === 'SELL' || s === 'CLOSE' ? 'bad' : 'info');
}

// What an agent said: its call, or for an assessment without one (the risk manager) its risk
// score.
function said(agent) {
  if (agent.signal == null && agent.risk_score != null) {
    const score = Number(agent.risk_score);
    return badge(`risk ${pct(score)}`, score >= 0.7 ? 'bad' : score >= 0.4 ? 'warn' : 'ok');
  }
  return signalBadge(agent.signal);
}

function mode(agent) {
  const p = agent.produced_by;
  if (!p) return '–';
  return p.mode === 'llm' ? `${p.provider ?? ''} ${p.model ?? ''}`.trim() : `rules (${p.reason ?? 'no model'})`;
}

function render(d) {
  const agents = Object.entries(d.agent_decisions ?? {}).map(([name, a]) => [
    name.replaceAll('_', ' '), said(a), pct(a.confidence), mode(a), a.reasoning || '–',
  ]);
  const debate = (d.debate ?? []).map((t) => el('li', { class: `turn ${t.stance}` },
    el('strong', {}, `Round ${t.round}, ${t.stance} (${pct(t.conviction)}): `), t.argument,
    t.rebuttal ? el('span', { class: 'muted' }, ` Rebuttal: ${t.rebuttal}`) : null));
  const guard = d.risk_guard;
  const findings = (guard?.findings ?? []).map((f) => el('li', {}, `${f.effect}: ${f.reason}`));
  const orders = (d.orders ?? []).map((o) => [o.client_id, signalBadge(o.side), o.quantity, o.status]);
  const extra = event && event.decision_id === d.decision_id ? event : null;
  fill('decision',
    el('p', { class: 'decision-head' },
      el('strong', {}, d.decision_id), ' · ', when(d.timestamp), ' · action ', signalBadge(d.action),
      extra?.confidence !== undefined ? ` · confidence ${pct(extra.confidence)}` : null,
      ' · guard ', badge(guard?.status ?? '–', guard?.status === 'APPROVED' ? 'ok' : guard ? 'warn' : 'info')),
    extra?.gate ? el('p', {}, `Operator gate: ${extra.gate}`) : null,
    d.execution_refused ? el('p', { class: 'down' }, `Execution refused: ${d.execution_refused.reason}`) : null,
    table(['Agent', 'Signal', 'Confidence', 'Made by', 'Reasoning'], agents, 'No agent spoke.'),
    el('h3', {}, 'Debate'),
    debate.length ? el('ol', { class: 'debate' }, debate) : el('p', { class: 'muted' }, 'No debate this cycle.'),
    el('h3', {}, 'Risk guard'),
    findings.length ? el('ul', {}, findings) : el('p', { class: 'muted' }, guard ? 'No findings.' : 'The guard did not run.'),
    el('h3', {}, 'Orders'),
    table(['Client id', 'Side', 'Quantity', 'Status'], orders, d.placed_earlier ? `Placed earlier: ${d.placed_earlier}` : 'No order.'));
  const dashboard = document.getElementById('dashboard');
  dashboard.dataset.decision = d.decision_id;
  if (extra && arrivedAt !== null) {
    // How long the page took from the event's arrival to showing its decision, measured in
    // the page (the 2 s budget of the specification).
    dashboard.dataset.decisionShownMs = String(Math.round(performance.now() - arrivedAt));
    dashboard.dataset.decisionShownFor = d.decision_id;
    arrivedAt = null;
  }
}

async function load() {
  if (wanted) {
    render(await getJson(`/api/v1/decisions/${encodeURIComponent(wanted)}`));
    return;
  }
  const page = await getJson('/api/v1/decisions?limit=1');
  if (page.items.length) render(page.items[0]);
  else fill('decision', el('p', { class: 'muted' }, 'No decision yet.'));
}

/** Shows the latest decision and follows new ones. */
export function start() {
  const refresh = coalesce(load, 500);
  on('decision', (e, id, type, arrived) => {
    wanted = e.decision_id; event = e; arrivedAt = arrived ?? performance.now(); refresh();
  });
  refresh();
}
