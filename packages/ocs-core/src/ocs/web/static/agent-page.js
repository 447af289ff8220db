// An agent's page, generated from its get_api reply: a password box, the
// custom view registered for its class (views.js), every Task and Process
// (op-card.js) and live plots of its recorded feeds (plots.js).
import { html, useState, useEffect, useMemo, useStore, errorText, duration } from './lib.js';
import { getPassword, setPassword } from './creds.js';
import { OpCard } from './op-card.js';
import { FeedPlots } from './plots.js';
import { viewFor } from './views.js';

const RETRY_MS = 3000;

/** What a view or op card uses to drive the agent (the password is applied here). */
export function agentHandle(wamp, address, api) {
  return {
    address, api, wamp,
    ops: (action, opName, params) => wamp.ops(address, action, opName, params, getPassword(address)),
    /** Wait up to `timeout` s for the op to finish; resolves to [status, message, session]. */
    wait: (opName, timeout) => wamp.call(`${address}.ops`, ['wait', opName], { timeout }),
  };
}

function PasswordBox({ address, levels }) {
  const [value, setValue] = useState(getPassword(address));
  const change = (e) => { setValue(e.target.value); setPassword(address, e.target.value); };
  return html`<form class="creds" onSubmit=${(e) => e.preventDefault()}
    title="Kept in this page's memory only; sent with this agent's operation calls.">
    <label for="agent-password">Password${levels.length ? ` (ops need level ${levels.join('/')})` : ''}</label>
    <input type="password" class="password" id="agent-password" name="agent-password" autocomplete="off"
      value=${value} onInput=${change} placeholder="none: level 1" />
  </form>`;
}

export function AgentPage({ wamp, address, directory }) {
  useStore(directory);
  const [api, setApi] = useState(null);
  const [error, setError] = useState('');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    if (!wamp.session) { setError(''); return undefined; }
    setError('');
    wamp.api(address).then((reply) => {
      if (!live) return;
      if (!reply || typeof reply !== 'object' || !Array.isArray(reply.tasks)) {
        setError(`get_api of ${address} gave an unexpected reply`);
      } else {
        setApi(reply);
      }
    }, (e) => {
      if (!live) return;
      setError(`get_api of ${address}: ${errorText(e)}`);
      setTimeout(() => live && setAttempt((n) => n + 1), RETRY_MS);
    });
    return () => { live = false; };
  }, [address, attempt, wamp.session]);

  const agent = useMemo(() => agentHandle(wamp, address, api), [address, api]);
  const entry = directory.get(address);
  const state = entry ? directory.state(entry) : null;
  const age = entry ? directory.age(entry) : null;
  const ops = api ? [...api.tasks, ...api.processes] : [];
  const levels = [...new Set(ops.map(([, , info]) => info && info.min_privs).filter((l) => l > 1))].sort();
  const View = api ? viewFor(api.agent_class) : null;
  const recorded = api && (api.feeds || []).some(([, f]) => f && f.record);

  return html`<section class="agent-page" data-address=${address}>
    <div class="agent-head">
      <h2>${address.slice(address.lastIndexOf('.') + 1)}
        ${state && html` <span class=${`badge ${state}`} data-state=${state}>${state}</span>`}</h2>
      <span class="muted">${address}${api ? ` · ${api.agent_class} on ${api.instance_hostname} (PID ${api.instance_pid})` : ''}
        ${age != null ? ` · heartbeat ${duration(age)} ago` : ''}</span>
      <${PasswordBox} address=${address} levels=${levels} />
      <button class="reload" onClick=${() => { setApi(null); setAttempt((n) => n + 1); }}>Reload API</button>
    </div>
    ${error && html`<p class="op-error">${error}</p>`}
    ${!api && !error && html`<p class="muted">${wamp.session ? `Asking ${address} for its API ...` : 'Waiting for the router connection ...'}</p>`}
    ${View && html`<${View} agent=${agent} wamp=${wamp} />`}
    ${api && html`<div class=${recorded ? 'columns' : 'ops-only'}>
      <div class="ops">
        <h2>Operations</h2>
        <div class="op-grid">
        ${ops.map(([name, session, info]) => html`<${OpCard} key=${`${api.instance_pid}-${name}`}
          agent=${agent} name=${name} info=${info || {}} initial=${session} />`)}
        </div>
      </div>
      ${recorded && html`<div><${FeedPlots} wamp=${wamp} feeds=${api.feeds} /></div>`}
    </div>`}
  </section>`;
}
