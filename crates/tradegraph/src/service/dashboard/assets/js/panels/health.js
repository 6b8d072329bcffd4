// The bot at a glance (header badges) and the health of its feed, stores and model
// providers: `/api/v1/status` and `/readyz`, refreshed on status-changing events.

import { coalesce, every, getJson } from '../api.js';
import { badge, el, fill, num, table, when } from '../dom.js';
import { on } from '../events.js';
import { showStatus } from './controls.js';

const STATE = { ok: 'ok', degraded: 'warn', failing: 'bad' };

async function load() {
  const [status, ready] = await Promise.all([getJson('/api/v1/status'), getJson('/readyz').catch((e) => ({ error: e.message }))]);
  document.title = `${status.instrument} · tradegraph`;
  fill('title', `${status.instrument} `, el('span', { class: 'muted' }, `tradegraph ${status.version}`));
  fill('badges',
    badge(status.mode, status.mode === 'live' ? 'bad' : 'info', `Mode: ${status.mode}`),
    badge(status.trading, status.trading === 'active' ? 'ok' : status.trading === 'halted' ? 'bad' : 'warn',
      `Trading: ${status.trading}${status.trading_reason ? `, ${status.trading_reason}` : ''}`),
    status.kill_switch ? badge('kill switch engaged', 'bad') : null,
    status.entries_paused ? badge('entries paused', 'warn') : null,
    badge(status.ready ? 'ready' : 'not ready', status.ready ? 'ok' : 'bad'),
    el('span', { class: 'muted' }, `equity ${num(status.equity)} · ${status.cycles} cycles`));
  document.getElementById('dashboard').dataset.killSwitch = String(status.kill_switch);
  showStatus(status);
  const checks = (ready.checks ?? status.checks).map((c) => [c.name, badge(c.state, STATE[c.state] ?? 'info'), c.message, when(c.since)]);
  const providers = (status.llm?.providers ?? []).map((p) => [
    `${p.provider} ${p.model}`, badge(p.disabled ? 'disabled' : p.breaker, p.disabled || p.breaker !== 'closed' ? 'bad' : 'ok'),
    `${p.successes}/${p.calls} ok`, p.recent_latency ? `${num(p.recent_latency * 1000, 0)} ms` : '–']);
  const feed = status.feed;
  fill('health',
    el('p', {}, 'Feed ', badge(feed.state, feed.state === 'connected' ? 'ok' : 'bad'),
      ` · last event ${feed.age_ms === null ? '–' : `${num(feed.age_ms / 1000, 1)} s ago`} · ${feed.reconnects} reconnects`),
    table(['Check', 'State', 'Message', 'Since'], checks, 'No check.'),
    status.llm?.configured
      ? table(['Provider', 'Breaker', 'Calls', 'Latency'], providers, 'No provider.')
      : el('p', { class: 'muted' }, 'No model provider: the agents run on rules.'));
}

/** Keeps the status current; returns the refresh, for the controls. */
export function start() {
  const refresh = coalesce(load, 1000);
  for (const type of ['kill_switch', 'trading_state', 'feed', 'health', 'operator_action', 'decision', 'approval_requested', 'approval_resolved', 'reset']) {
    on(type, refresh);
  }
  every(refresh, 10000);
  refresh();
  return refresh;
}
