// The bot's HTTP API: JSON reads, control calls with the bearer token (kept in
// sessionStorage only, never in a URL), and coalesced refreshes.

const TOKEN_KEY = 'tradegraph.api-token';

/** An answer that was not 2xx. */
export class ApiError extends Error {
  constructor(status, message) {
    super(`${status}: ${message}`);
    this.status = status;
  }
}

async function answer(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body?.error ?? response.statusText);
  return body;
}

/** `GET path` as JSON. */
export async function getJson(path) {
  return answer(await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' }));
}

/** The API token of this tab, if one was given. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keeps (or forgets, with null) the API token for this tab. */
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** `POST path` with a JSON `body` and the token: `{status, body}`, whatever the status. */
export async function post(path, body, bearer) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${bearer}` },
    body: JSON.stringify(body ?? {}),
    cache: 'no-store',
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/**
 * `task`, run at most once every `gapMs`: a call runs it at once when it has not run for
 * `gapMs`, else once when the gap is over, however many calls came in between.
 */
export function coalesce(task, gapMs = 1000) {
  let last = 0;
  let timer = null;
  let running = false;
  let again = false;
  const run = async () => {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    last = Date.now();
    try { await task(); } catch (e) { console.warn(e); }
    running = false;
    if (again) { again = false; trigger(); }
  };
  const trigger = () => {
    if (timer) return;
    const wait = Math.max(0, last + gapMs - Date.now());
    timer = setTimeout(run, wait);
  };
  return trigger;
}

/** Calls `task` every `everyMs` (at least 2 s), while the page is visible. */
export function every(task, everyMs) {
  const period = Math.max(2000, everyMs);
  setInterval(() => { if (document.visibilityState === 'visible') task(); }, period);
}
