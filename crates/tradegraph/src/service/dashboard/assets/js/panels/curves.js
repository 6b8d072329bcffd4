// Equity and drawdown curves, and realized P&L by day.

import { AreaSeries, LineSeries, createChart } from '../../vendor/lightweight-charts.standalone.production.mjs';
import { coalesce, every, getJson } from '../api.js';
import { fill, num, signed, table, tickLabel, timeLabel } from '../dom.js';
import { on } from '../events.js';
import { theme } from './theme.js';

let equity;
let drawdown;

function small(id) {
  const c = theme();
  return createChart(document.getElementById(id), {
    autoSize: true,
    layout: { background: { color: c.background }, textColor: c.text, attributionLogo: false },
    localization: { timeFormatter: timeLabel },
    grid: { vertLines: { visible: false }, horzLines: { color: c.grid } },
    timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: tickLabel },
    handleScroll: false, handleScale: false,
  });
}

async function load() {
  const [curve, days] = await Promise.all([getJson('/api/v1/equity?limit=1440'), getJson('/api/v1/pnl/daily?days=14')]);
  const eq = [];
  const dd = [];
  for (const p of curve.items) {
    const time = Math.floor(new Date(p.ts).getTime() / 1000);
    const value = Number(p.equity);
    if (eq.length && eq[eq.length - 1].time >= time) continue;
    eq.push({ time, value });
    // The engine's drawdown (percent below its peak since the bot started), as served.
    dd.push({ time, value: -Number(p.drawdown_pct ?? 0) });
  }
  equity.setData(eq);
  drawdown.setData(dd);
  const worst = dd.reduce((m, p) => Math.min(m, p.value), 0);
  fill('curves-summary', `Equity ${eq.length ? num(eq[eq.length - 1].value) : '–'} · max drawdown ${num(worst)}%`);
  fill('daily', table(['Day', 'Realized P&L', 'Trades', 'Wins'],
    days.items.slice().reverse().map((d) => [d.date, signed(d.realized_pnl), d.trades, d.wins]), 'No closed trade in the last 14 days.'));
}

/** Draws the curves and keeps them current. */
export function start() {
  const c = theme();
  equity = small('equity').addSeries(LineSeries, { color: c.line, lineWidth: 2, priceLineVisible: false });
  drawdown = small('drawdown').addSeries(AreaSeries, {
    lineColor: c.down, topColor: c.down, bottomColor: 'rgba(0,0,0,0)', lineWidth: 1, priceLineVisible: false,
    priceFormat: { type: 'percent' },
  });
  const refresh = coalesce(load, 2000);
  for (const type of ['fill', 'trade_closed', 'decision', 'reset']) on(type, refresh);
  every(refresh, 30000);
  refresh();
}
