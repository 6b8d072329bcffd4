// The overview page: every bot of `[dashboard] peers` (`/api/v1/overview`, asked by this bot).

import { every, getJson } from './api.js';
import { badge, el, fill, num, signed, table } from './dom.js';

async function load() {
  const overview = await getJson('/api/v1/overview');
  const rows = overview.items.map((b) => b.reachable
    ? [el('a', { href: b.dashboard }, b.instrument ?? b.address), b.address, b.mode,
      badge(b.trading, b.trading === 'active' ? 'ok' : b.trading === 'halted' ? 'bad' : 'warn'),
      b.kill_switch ? badge('engaged', 'bad') : badge('off', 'ok'), num(b.equity),
      b.today_pnl === null ? '–' : signed(b.today_pnl),
      b.ready ? badge('ready', 'ok') : badge(`failing: ${(b.failing ?? []).join(', ')}`, 'bad')]
    : [el('a', { href: b.dashboard }, b.address), b.address, '–', badge('unreachable', 'bad'), '–', '–', '–',
      el('span', { class: 'down' }, b.error)]);
  fill('bots', table(['Bot', 'Address', 'Mode', 'Trading', 'Kill switch', 'Equity', "Today's P&L", 'Health'], rows, 'No bot configured.'));
  const root = document.getElementById('overview');
  root.dataset.bots = String(overview.items.length);
  root.dataset.reachable = String(overview.items.filter((b) => b.reachable).length);
  fill('updated', `Updated ${new Date().toLocaleTimeString()} (every 5 s)`);
}

load().catch((e) => fill('bots', el('p', { class: 'down' }, e.message)));
every(() => load().catch((e) => fill('updated', e.message)), 5000);
