// Recent alerts (`/api/v1/alerts`), with new ones from `alert` events on top.

import { getJson } from '../api.js';
import { badge, el, fill, when } from '../dom.js';
import { on } from '../events.js';

const KEEP = 50;
let alerts = [];
const SEVERITY = { info: 'info', warning: 'warn', critical: 'bad' };

function render() {
  fill('alerts', alerts.length
    ? el('ul', { class: 'alerts' }, alerts.map((a) => el('li', {},
      badge(a.severity ?? 'info', SEVERITY[a.severity] ?? 'info'), ' ', el('strong', {}, String(a.kind ?? 'alert')),
      ` · ${when(a.at)} · `, a.message ?? '')))
    : el('p', { class: 'muted' }, 'No alert.'));
  document.getElementById('dashboard').dataset.alerts = String(alerts.length);
}

/** The alert's store id: `alert_id` on the event stream, `id` in `/api/v1/alerts` (the same
 * value); an event without one (not stored) is keyed by its stream id. */
function key(a) {
  return String(a.alert_id ?? a.id);
}

/** Shows the recent alerts and follows new ones. */
export async function start() {
  on('alert', (a, streamId) => {
    const alert = { ...a, alert_id: a.alert_id ?? `stream-${streamId}` };
    alerts = [alert, ...alerts.filter((x) => key(x) !== key(alert))].slice(0, KEEP);
    render();
  });
  const page = await getJson(`/api/v1/alerts?limit=${KEEP}`);
  const known = new Set(alerts.map(key));
  alerts = [...alerts, ...page.items.filter((a) => !known.has(key(a)))].slice(0, KEEP);
  render();
}
