// Positions, working orders and the approval queue (approve / reject with the token).

import { coalesce, every, getJson } from '../api.js';
import { badge, el, fill, num, signed, table, when } from '../dom.js';
import { on } from '../events.js';
import { operate } from './controls.js';

function kind(k) {
  if (!k) return '–';
  const price = k.price ?? k.trigger ?? k.trail ?? null;
  return price ? `${k.type} ${price}` : k.type;
}

async function load() {
  const [positions, orders, approvals] = await Promise.all([
    getJson('/api/v1/positions'), getJson('/api/v1/orders?status=working'), getJson('/api/v1/approvals'),
  ]);
  fill('positions', table(['Symbol', 'Quantity', 'Cost', 'Mark', 'Unrealized', 'Since'],
    positions.items.map((p) => {
      const qty = Number(p.quantity);
      const value = qty * Number(p.mark_price ?? 0);
      return [p.symbol, p.quantity, num(p.cost_basis), p.mark_price ?? '–',
        p.mark_price ? signed(value - Number(p.cost_basis)) : '–', when(p.opened_at)];
    }), 'No open position.'));
  fill('orders', table(['Client id', 'Side', 'Quantity', 'Kind', 'Status', 'Exit of'],
    orders.items.map((o) => [o.request.client_id, o.request.side, o.request.quantity, kind(o.request.kind),
      o.status, o.parent ?? '–']), 'No working order.'));
  fill('approvals', approvals.items.length
    ? approvals.items.map((a) => el('div', { class: 'approval', 'data-approval': a.id },
      el('p', {}, badge(a.side, a.side === 'BUY' ? 'ok' : 'bad'), ` ${a.quantity} at ${a.reference_price}`,
        ` · stop ${a.stop_loss ?? '–'} · target ${a.take_profit ?? '–'} · expires ${when(a.expires_at)}`),
      a.reasons.length ? el('p', { class: 'muted' }, a.reasons.join('; ')) : null,
      el('div', { class: 'buttons' },
        button('Approve', `Approve the ${a.side} order ${a.client_id}`, 'ok',
          () => operate(`/api/v1/approvals/${encodeURIComponent(a.id)}/approve`, {}, `approve ${a.id}`)),
        button('Reject', `Reject the ${a.side} order ${a.client_id}`, 'bad',
          () => operate(`/api/v1/approvals/${encodeURIComponent(a.id)}/reject`, { reason: 'rejected on the dashboard' }, `reject ${a.id}`)))))
    : el('p', { class: 'muted' }, 'Nothing waits for approval.'));
}

function button(text, label, cls, action) {
  const b = el('button', { type: 'button', class: cls, 'aria-label': label }, text);
  b.addEventListener('click', action);
  return b;
}

/** Keeps the book current. */
export function start() {
  const refresh = coalesce(load, 1000);
  for (const type of ['order', 'fill', 'trade_closed', 'approval_requested', 'approval_resolved', 'operator_action', 'decision', 'reset']) {
    on(type, refresh);
  }
  every(refresh, 10000);
  refresh();
}
