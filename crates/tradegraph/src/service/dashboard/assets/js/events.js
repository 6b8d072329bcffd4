// The bot's event stream (`/api/v1/events`, server-sent events): the browser's EventSource
// reconnects by itself and resumes with Last-Event-ID; panels subscribe by event type.

const TYPES = ['node_started', 'node_finished', 'decision', 'order', 'fill', 'trade_closed',
  'kill_switch', 'trading_state', 'feed', 'approval_requested', 'approval_resolved',
  'operator_action', 'alert', 'health', 'gap', 'reset'];

const listeners = new Map();

/** Calls `handler(data, id, type, arrived)` for every event of `type` (`*` for every type);
 * `arrived` is the `performance.now()` of the message's arrival. */
export function on(type, handler) {
  if (!listeners.has(type)) listeners.set(type, []);
  listeners.get(type).push(handler);
}

function emit(type, data, id, arrived) {
  for (const handler of [...(listeners.get(type) ?? []), ...(listeners.get('*') ?? [])]) {
    try { handler(data, id, type, arrived); } catch (e) { console.warn(type, e); }
  }
}

/** Opens the stream; `onState('live' | 'reconnecting')` follows the connection. */
export function connect(onState) {
  const source = new EventSource('/api/v1/events');
  source.onopen = () => onState('live');
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  for (const type of TYPES) {
    source.addEventListener(type, (event) => {
      const arrived = performance.now();
      let data = null;
      try { data = JSON.parse(event.data); } catch { data = event.data; }
      emit(type, data, event.lastEventId, arrived);
    });
  }
  return source;
}
