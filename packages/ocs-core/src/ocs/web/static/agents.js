// The live agent list: every agent's heartbeat (feed `heartbeat`, once a
// second) and, when a Registry runs, its `main` session data (expiry, host,
// PID). Shows alive / expired / degraded at a glance, with a filter box.
import { html, useState, useStore, duration, agentHref, errorText } from './lib.js';
import { unpackEvent } from './wamp.js';

/** Seconds without a heartbeat before an agent shows as expired (the Registry's default). */
export const EXPIRE_S = 5;
/** OpCode values (ocs.base.OpCode). */
export const OPCODE = { 1: 'none', 2: 'starting', 3: 'running', 4: 'stopping', 5: 'succeeded',
  6: 'failed', 7: 'expired', 8: 'degraded' };
const REGISTRY_CLASS = 'RegistryAgent';
const REGISTRY_POLL_MS = 2000;

export class AgentDirectory {
  constructor(wamp) {
    this.wamp = wamp;
    this.agents = new Map();      // address -> entry
    this.registry = null;         // the Registry's address, once a heartbeat shows one
    this.registryError = '';
    this._listeners = new Set();
    this._pending = false;
  }

  subscribe(fn) { this._listeners.add(fn); return () => this._listeners.delete(fn); }

  _changed() {
    if (this._pending) return;
    this._pending = true;
    setTimeout(() => { this._pending = false; for (const fn of this._listeners) fn(); }, 150);
  }

  start() {
    const topic = `${this.wamp.cfg.address_root}..feeds.heartbeat`;
    this.wamp.subscribe(topic, (args) => this._heartbeat(args), { match: 'wildcard' });
    this._poll = setInterval(() => this._pollRegistry(), REGISTRY_POLL_MS);
    this._tick = setInterval(() => this._changed(), 1000);    // ages move on
  }

  _entry(address) {
    let e = this.agents.get(address);
    if (!e) {
      e = { address, instanceId: address.slice(address.lastIndexOf('.') + 1), agentClass: '',
        lastBeat: null, opCodes: {}, reg: null, regAt: 0 };
      this.agents.set(address, e);
    }
    return e;
  }

  _heartbeat(args) {
    const [message, feed] = unpackEvent(args);
    if (!feed || typeof feed.agent_address !== 'string') return;
    const e = this._entry(feed.agent_address);
    e.lastBeat = Date.now();
    if (feed.agent_class) e.agentClass = feed.agent_class;
    if (message && typeof message === 'object') e.opCodes = message;
    if (e.agentClass === REGISTRY_CLASS && !this.registry) {
      this.registry = e.address;
      this._pollRegistry();
    }
    this._changed();
  }

  async _pollRegistry() {
    if (!this.registry || !this.wamp.session) return;
    try {
      const [status, message, session] = await this.wamp.ops(this.registry, 'status', 'main');
      if (status !== 0 || !session || !session.data) {
        this.registryError = `Registry main: ${message} (${session && session.status || 'not running'})`;
      } else {
        this.registryError = session.status === 'running' ? '' : `Registry main is ${session.status}`;
        const now = Date.now();
        for (const [address, info] of Object.entries(session.data)) {
          if (!info || typeof info !== 'object') continue;
          const e = this._entry(address);
          e.reg = info;
          e.regAt = now;
          if (info.agent_class && !e.agentClass) e.agentClass = info.agent_class;
          if (!e.lastBeat && info.op_codes) e.opCodes = info.op_codes;
        }
      }
    } catch (err) {
      this.registryError = `Registry ${this.registry}: ${errorText(err)}`;
    }
    this._changed();
  }

  /** Seconds since the agent's last heartbeat (ours or the Registry's view), or null. */
  age(e, now = Date.now()) {
    const ages = [];
    if (e.lastBeat) ages.push((now - e.lastBeat) / 1000);
    if (e.reg && typeof e.reg.heartbeat_age === 'number') ages.push(e.reg.heartbeat_age + (now - e.regAt) / 1000);
    return ages.length ? Math.min(...ages) : null;
  }

  /** 'alive', 'degraded' or 'expired'. */
  state(e, now = Date.now()) {
    const age = this.age(e, now);
    if (age == null || age > EXPIRE_S) return 'expired';
    if (Object.values(e.opCodes || {}).some((c) => c === 8)) return 'degraded';
    return 'alive';
  }

  list() {
    return [...this.agents.values()].sort((a, b) => a.address.localeCompare(b.address));
  }

  get(address) { return this.agents.get(address); }
}

function activeOps(opCodes) {
  return Object.entries(opCodes || {}).filter(([, c]) => c >= 2 && c <= 4 || c === 8)
    .map(([name, c]) => `${name} (${OPCODE[c]})`);
}

export function AgentList({ directory }) {
  useStore(directory);
  const [filter, setFilter] = useState('');
  const now = Date.now();
  const needle = filter.trim().toLowerCase();
  const rows = directory.list().map((e) => ({ e, state: directory.state(e, now), age: directory.age(e, now) }))
    .filter(({ e, state }) => !needle || [e.address, e.agentClass, state, e.reg && e.reg.instance_hostname]
      .some((s) => s && String(s).toLowerCase().includes(needle)));
  const counts = { alive: 0, degraded: 0, expired: 0 };
  for (const e of directory.list()) counts[directory.state(e, now)] += 1;
  return html`
    <section class="agent-list">
      <div class="toolbar">
        <input type="search" class="filter" placeholder="Filter: id, class, host, state"
          value=${filter} onInput=${(ev) => setFilter(ev.target.value)} aria-label="Filter agents" />
        ${['alive', 'degraded', 'expired'].map((k) => html`<span class=${`badge ${counts[k] ? k : ''}`}
          data-count=${k}>${counts[k]} ${k}</span>`)}
        <span class="muted registry-note">${directory.registry
          ? `Registry: ${directory.registry}` : 'No Registry seen yet: list from heartbeats only'}</span>
      </div>
      ${directory.registryError && html`<p class="op-error">${directory.registryError}</p>`}
      <table class="agents">
        <thead><tr><th>State</th><th>Agent</th><th>Class</th><th>Host / PID</th><th>Last heartbeat</th><th>Active operations</th></tr></thead>
        <tbody>
          ${rows.map(({ e, state, age }) => html`
            <tr key=${e.address} class=${`agent-row ${state}`} data-address=${e.address} data-state=${state}>
              <td><span class=${`badge ${state}`}>${state}</span></td>
              <td><a href=${agentHref(e.address)}>${e.instanceId}</a><div class="muted small">${e.address}</div></td>
              <td>${e.agentClass}</td>
              <td>${e.reg && e.reg.instance_hostname ? `${e.reg.instance_hostname} / ${e.reg.instance_pid}` : ''}</td>
              <td>${age == null ? '' : `${duration(age)} ago`}</td>
              <td class="small">${activeOps(e.opCodes).join(', ')}</td>
            </tr>`)}
        </tbody>
      </table>
      ${rows.length === 0 && html`<p class="muted">${directory.agents.size ? 'No agent matches the filter.' : 'No agent heard from yet.'}</p>`}
    </section>`;
}
