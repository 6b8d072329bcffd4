// The bot's dashboard: opens the event stream, starts every panel.

import { connect } from './events.js';
import { badge, fill } from './dom.js';
import * as alerts from './panels/alerts.js';
import * as book from './panels/book.js';
import * as chart from './panels/chart.js';
import * as controls from './panels/controls.js';
import * as curves from './panels/curves.js';
import * as decision from './panels/decision.js';
import * as graph from './panels/graph.js';
import * as health from './panels/health.js';
import * as llm from './panels/llm.js';

const root = document.getElementById('dashboard');
let violations = 0;
document.addEventListener('securitypolicyviolation', (e) => {
  violations += 1;
  root.dataset.cspViolations = String(violations);
  root.dataset.cspBlocked = `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`;
  console.warn('blocked by the Content-Security-Policy:', e.violatedDirective, e.blockedURI);
});

const stream = (state) => {
  root.dataset.stream = state;
  fill('stream', badge(state === 'live' ? 'live' : state, state === 'live' ? 'ok' : 'warn', `Event stream: ${state}`));
};

const panels = [graph, chart, decision, book, curves, llm, alerts];
const refreshStatus = health.start();
controls.start(refreshStatus);
for (const panel of panels) {
  Promise.resolve().then(() => panel.start()).catch((e) => console.warn('panel failed to start', e));
}
connect(stream);
root.dataset.ready = '1';
