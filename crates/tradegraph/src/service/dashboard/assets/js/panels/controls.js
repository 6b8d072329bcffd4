// Operator control: kill switch, pause / resume entries, close all, cancel all. Each asks
// for the API token once per tab (kept in sessionStorage, sent as `Authorization: Bearer`,
// never in a URL) and shows the bot's answer, or the 401. The actions that trade or let the
// bot trade again (close all, cancel all, releasing the kill switch) ask for confirmation
// first, naming what will happen; engaging the kill switch and pausing entries (the safe
// ways) act at once.

import { post, setToken, token } from '../api.js';
import { el } from '../dom.js';

let state = { kill_switch: false, entries_paused: false };
let pending = null;

function show(text, cls, status) {
  const out = document.getElementById('control-result');
  out.className = `result ${cls}`;
  out.textContent = text;
  out.dataset.status = String(status ?? '');
}

/** Asks for the token in the dialog: the token, or null when cancelled. */
function askToken() {
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  input.value = '';
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => { pending = resolve; });
}

function answerDialog(value) {
  const dialog = document.getElementById('token-dialog');
  if (dialog.open) dialog.close();
  if (pending) { const done = pending; pending = null; done(value); }
}

/** `POST path` with `body` and the token, asking for the token first if needed. */
export async function operate(path, body, what) {
  let bearer = token();
  if (!bearer) {
    bearer = await askToken();
    if (!bearer) { show(`${what}: cancelled, no token given.`, 'info', ''); return null; }
    setToken(bearer);
  }
  show(`${what}: sent…`, 'info', 'pending');
  let result;
  try {
    result = await post(path, body, bearer);
  } catch (e) {
    show(`${what}: the bot did not answer (${e.message}).`, 'bad', 'network');
    return null;
  }
  if (result.status === 401) {
    setToken(null);
    show(`${what}: 401, the bot refused the token and changed nothing. Click again to enter the right token.`, 'bad', 401);
  } else if (result.status >= 200 && result.status < 300) {
    show(`${what}: ${result.body?.message ?? 'done'}`, 'ok', result.status);
  } else {
    show(`${what}: ${result.status}, ${result.body?.error ?? 'failed'}`, 'bad', result.status);
  }
  return result;
}

/** Runs `action` once the operator confirms `question` (a browser confirm dialog); else
 * shows that nothing was done. */
function confirmed(question, what, action) {
  if (!window.confirm(question)) {
    show(`${what}: cancelled, nothing sent.`, 'info', 'cancelled');
    return Promise.resolve(null);
  }
  return action();
}

/** Shows the buttons for `status` (the kill switch and pause toggle). */
export function showStatus(status) {
  state = status;
  const kill = document.getElementById('kill-switch');
  kill.textContent = status.kill_switch ? 'Release kill switch' : 'Engage kill switch';
  kill.setAttribute('aria-label', status.kill_switch
    ? 'Release the kill switch: let the bot trade again'
    : 'Engage the kill switch: stop opening positions and close the open one');
  kill.classList.toggle('engaged', Boolean(status.kill_switch));
  const pause = document.getElementById('pause');
  pause.textContent = status.entries_paused ? 'Resume entries' : 'Pause entries';
  pause.setAttribute('aria-label', status.entries_paused ? 'Resume new entries' : 'Pause new entries (exits go on)');
}

/** Wires the buttons and the token dialog. */
export function start(refreshStatus) {
  document.getElementById('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    answerDialog(document.getElementById('token-input').value.trim() || null);
  });
  document.getElementById('token-cancel').addEventListener('click', () => answerDialog(null));
  document.getElementById('token-dialog').addEventListener('cancel', () => answerDialog(null));
  document.getElementById('forget-token').addEventListener('click', () => {
    setToken(null);
    show('The token is forgotten in this tab.', 'info', '');
  });
  const after = (promise) => promise.then(() => refreshStatus());
  document.getElementById('kill-switch').addEventListener('click', () => {
    if (!state.kill_switch) {
      after(operate('/api/v1/kill-switch', { engaged: true }, 'Engage kill switch'));
      return;
    }
    after(confirmed(
      'Release the kill switch? The bot may open new positions again at its next decision.',
      'Release kill switch',
      () => operate('/api/v1/kill-switch', { engaged: false }, 'Release kill switch')));
  });
  document.getElementById('pause').addEventListener('click', () => after(operate(
    '/api/v1/pause', { paused: !state.entries_paused },
    state.entries_paused ? 'Resume entries' : 'Pause entries')));
  document.getElementById('close-all').addEventListener('click', () => after(confirmed(
    'Close all? Every open position is closed now with market orders.',
    'Close all', () => operate('/api/v1/close-all', {}, 'Close all'))));
  document.getElementById('cancel-all').addEventListener('click', () => after(confirmed(
    'Cancel all entry orders? Every working entry order is cancelled; the exits protecting an open position stay.',
    'Cancel all entry orders',
    () => operate('/api/v1/cancel-all', { include_exits: false }, 'Cancel all entry orders'))));
  document.getElementById('control-result').append(el('span', { class: 'muted' }, 'Control needs the API token.'));
}
