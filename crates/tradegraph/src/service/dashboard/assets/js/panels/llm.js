// Model calls, tokens and cost (`/api/v1/llm/usage`), refreshed after decisions.

import { coalesce, every, getJson } from '../api.js';
import { el, fill, num, table } from '../dom.js';
import { on } from '../events.js';

async function load() {
  const usage = await getJson('/api/v1/llm/usage');
  if (!usage.configured) {
    fill('llm', el('p', { class: 'muted' }, usage.reason ?? 'No model provider.'));
    return;
  }
  const row = (name, u) => [name, u.calls, u.cached, num(u.usage?.input_tokens, 0), num(u.usage?.output_tokens, 0),
    `$${num(u.cost, 4)}`, u.unpriced_calls ? `${u.unpriced_calls} unpriced` : ''];
  const rows = [row('this run', usage.run), ...Object.entries(usage.providers ?? {}).map(([n, u]) => row(n, u))];
  // The ledger's tallies (by agent, by day) carry their tokens flat.
  const tally = (name, t) => [name, t.calls, t.cached, num(t.input_tokens, 0), num(t.output_tokens, 0), `$${num(t.cost, 4)}`];
  const head = ['', 'Calls', 'Cached', 'Input tokens', 'Output tokens', 'Cost'];
  const agents = Object.entries(usage.by_agent ?? {}).map(([n, t]) => tally(n, t));
  const days = (usage.by_day ?? []).slice(0, 7).map((d) => tally(d.day, d));
  const budget = usage.budget ?? {};
  fill('llm',
    table([...head, ''], rows),
    el('p', { class: 'muted' }, `Budget: ${budget.max_cost ? `$${budget.max_cost}` : 'no cost cap'}`,
      budget.max_tokens ? ` · ${budget.max_tokens} tokens` : '', budget.max_calls ? ` · ${budget.max_calls} calls` : ''),
    el('h3', {}, `By agent, last ${usage.days ?? 30} days`),
    agents.length ? table(head, agents) : el('p', { class: 'muted' }, 'No model call yet.'),
    el('h3', {}, 'By day (UTC)'),
    days.length ? table(head, days) : el('p', { class: 'muted' }, 'No model call yet.'),
    usage.incomplete
      ? el('p', { class: 'down' }, `Incomplete: the usage ledger missed ${usage.missed_events} model calls.`)
      : null);
  const dashboard = document.getElementById('dashboard');
  dashboard.dataset.llmAgents = String(agents.length);
  dashboard.dataset.llmDays = String(days.length);
}

/** Keeps the cost current. */
export function start() {
  const refresh = coalesce(load, 2000);
  on('decision', refresh);
  every(refresh, 30000);
  refresh();
}
