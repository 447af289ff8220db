// The OCS web panel: connects to the router that served it (panel-config),
// shows the agent list (#/) and agent pages (#/agent/<address>).
import { html, render, useState, useEffect, useStore, route } from './lib.js';
import { Wamp, loadConfig } from './wamp.js';
import { AgentDirectory, AgentList } from './agents.js';
import { AgentPage } from './agent-page.js';
import './views.js';
import './site-views.js';

function useRoute() {
  const [r, setR] = useState(route());
  useEffect(() => {
    const on = () => setR(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

function ConnectionState({ wamp }) {
  const [, bump] = useState(0);
  useEffect(() => wamp.subscribeState(() => bump((n) => n + 1)), [wamp]);
  const cls = wamp.state === 'connected' ? 'ok' : (wamp.state === 'connecting' ? 'warn' : 'bad');
  return html`<span class="conn"><span class=${`badge ${cls}`} data-conn=${wamp.state}>${wamp.state}</span>
    ${' '}${wamp.cfg.realm} · ${wamp.cfg.url}${wamp.detail ? ` · ${wamp.detail}` : ''}</span>`;
}

function App({ wamp, directory }) {
  const r = useRoute();
  useStore(directory);
  const page = r[0] === 'agent' && r[1]
    ? html`<${AgentPage} key=${r[1]} wamp=${wamp} address=${r[1]} directory=${directory} />`
    : html`<${AgentList} directory=${directory} />`;
  return html`<header><a href="#/">OCS</a><span>${wamp.cfg.address_root}</span>
      ${r[0] === 'agent' && html`<a href="#/" class="back">All agents</a>`}
      <${ConnectionState} wamp=${wamp} /></header>
    <main>${page}</main>`;
}

async function boot() {
  const root = document.getElementById('app');
  let cfg;
  try {
    cfg = await loadConfig();
  } catch (e) {
    root.innerHTML = '';
    const p = document.createElement('p');
    p.className = 'op-error boot';
    p.textContent = `Cannot read the panel's config from the router: ${e.message}`;
    root.append(p);
    return;
  }
  document.title = `OCS · ${cfg.address_root}`;
  const wamp = new Wamp(cfg);
  const directory = new AgentDirectory(wamp);
  wamp.open();
  directory.start();
  root.innerHTML = '';
  render(html`<${App} wamp=${wamp} directory=${directory} />`, root);
  window.ocsPanel = { wamp, directory };     // for the browser console and tests
}

boot();
