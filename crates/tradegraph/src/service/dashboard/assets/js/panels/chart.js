// The candlestick chart: candles of the chosen timeframe with EMA, SMA and Bollinger bands,
// and the bot's entries and exits marked.

import { CandlestickSeries, LineSeries, createChart, createSeriesMarkers } from '../../vendor/lightweight-charts.standalone.production.mjs';
import { coalesce, every, getJson } from '../api.js';
import { tickLabel, timeLabel } from '../dom.js';
import { on } from '../events.js';
import { theme } from './theme.js';

const SECONDS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86400 };
const secs = (time) => Math.floor(new Date(time).getTime() / 1000);

let chart;
let candles;
let markers;
const lines = {};
let timeframe = '5m';
let bars = [];
let fitted = '';

/** The open time of the bar of `times` (ascending open times, Unix seconds) that `t` falls in:
 * the last one at or before it; `null` before the first. Bars of a session need not start on
 * whole hours (NSE's hourly bars start at :15 IST), so a marker is snapped to the bars loaded. */
export function barAt(times, t) {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid + 1; else hi = mid;
  }
  return lo === 0 ? null : times[lo - 1];
}

function makeChart() {
  const host = document.getElementById('chart');
  const colors = theme();
  chart = createChart(host, {
    autoSize: true,
    layout: { background: { color: colors.background }, textColor: colors.text, attributionLogo: true },
    localization: { timeFormatter: timeLabel },
    grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
    timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: tickLabel },
    rightPriceScale: { borderVisible: false },
  });
  candles = chart.addSeries(CandlestickSeries, {
    upColor: colors.up, downColor: colors.down, borderVisible: false,
    wickUpColor: colors.up, wickDownColor: colors.down,
  });
  const line = (key, color, style = 0) => {
    lines[key] = chart.addSeries(LineSeries, {
      color, lineWidth: key.startsWith('bb') ? 1 : 2, lineStyle: style,
      priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false,
    });
  };
  line('ema', colors.ema);
  line('sma', colors.sma);
  line('bb_upper', colors.band, 2);
  line('bb_middle', colors.band, 1);
  line('bb_lower', colors.band, 2);
  markers = createSeriesMarkers(candles, []);
}

async function loadCandles() {
  const page = await getJson(`/api/v1/candles?timeframe=${timeframe}&limit=300`);
  bars = page.items.map((c) => ({
    time: secs(c.open_time), open: Number(c.open), high: Number(c.high), low: Number(c.low),
    close: Number(c.close), indicators: c.indicators,
  }));
  candles.setData(bars.map(({ indicators, ...bar }) => bar));
  const panel = document.getElementById('dashboard');
  for (const [key, series] of Object.entries(lines)) {
    const points = bars
      .filter((b) => b.indicators?.[key] !== null && b.indicators?.[key] !== undefined)
      .map((b) => ({ time: b.time, value: Number(b.indicators[key]) }));
    series.setData(points);
    if (key === 'ema' || key === 'sma') panel.dataset[`${key}Points`] = String(points.length);
  }
  if (fitted !== timeframe && bars.length) {
    // Few candles fill the width; many show the newest at the default spacing.
    if (bars.length < 120) chart.timeScale().fitContent();
    fitted = timeframe;
  }
  panel.dataset.candles = String(bars.length);
  document.getElementById('chart-empty').hidden = bars.length > 0;
  await loadMarkers();
}

async function loadMarkers() {
  if (!bars.length) { markers.setMarkers([]); return; }
  const times = bars.map((b) => b.time);
  const barOf = (time) => (time ? barAt(times, secs(time)) : null);
  const trades = await getJson('/api/v1/trades?limit=200');
  const found = [];
  for (const t of trades.items) {
    const long = t.side === 'BUY';
    const entry = barOf(t.entry_timestamp);
    if (entry !== null) {
      found.push({
        time: entry, position: long ? 'belowBar' : 'aboveBar',
        color: long ? theme().up : theme().down, shape: long ? 'arrowUp' : 'arrowDown',
        text: `${long ? 'Long' : 'Short'} ${t.quantity} @ ${t.entry_price}`,
      });
    }
    const exit = barOf(t.exit_timestamp);
    if (exit !== null) {
      found.push({
        time: exit, position: long ? 'aboveBar' : 'belowBar',
        color: theme().exit, shape: 'circle',
        text: `Exit @ ${t.exit_price ?? '?'}${t.realized_pnl ? ` (${t.realized_pnl})` : ''}`,
      });
    }
  }
  found.sort((a, b) => a.time - b.time);
  markers.setMarkers(found);
  document.getElementById('dashboard').dataset.markers = String(found.length);
}

/** Draws the chart and keeps it current. */
export function start() {
  const select = document.getElementById('timeframe');
  const asked = new URLSearchParams(location.search).get('timeframe');
  if (asked && SECONDS[asked]) timeframe = asked;
  select.value = timeframe;
  makeChart();
  const refresh = coalesce(loadCandles, 1000);
  const refreshMarkers = coalesce(loadMarkers, 1000);
  select.addEventListener('change', () => { timeframe = select.value; refresh(); });
  on('decision', refresh);
  on('fill', refreshMarkers);
  on('trade_closed', refreshMarkers);
  on('reset', refresh);
  every(refresh, 15000);
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    const c = theme();
    chart.applyOptions({
      layout: { background: { color: c.background }, textColor: c.text },
      grid: { vertLines: { color: c.grid }, horzLines: { color: c.grid } },
    });
  });
  refresh();
}
