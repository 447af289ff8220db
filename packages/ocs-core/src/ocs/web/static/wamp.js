// The panel's one WAMP connection (autobahn-browser, loaded as the global
// `autobahn`): connects back to the router that served the page, reconnects
// by itself, and keeps subscriptions across reconnects.

/** Seconds before a call with no answer is given up (the agent may be gone). */
export const CALL_TIMEOUT_S = 20;

/** Fetch the router's panel-config document and build the WebSocket URL from it. */
export async function loadConfig() {
  const reply = await fetch('panel-config', { cache: 'no-store' });
  if (!reply.ok) throw new Error(`panel-config: HTTP ${reply.status} from the router`);
  const cfg = await reply.json();
  const ws = new URL(cfg.ws_path || 'ws', location.href);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return { ...cfg, url: ws.href };
}

/** Split a feed event into [message, feed]: ocs publishes one argument, the pair. */
export function unpackEvent(args) {
  if (args.length === 1 && Array.isArray(args[0]) && args[0].length === 2) return args[0];
  return [args[0], args[1]];
}

export class Wamp {
  constructor(cfg) {
    this.cfg = cfg;
    this.session = null;
    this.state = 'connecting';
    this.detail = '';
    this._subs = new Set();
    this._listeners = new Set();
  }

  subscribeState(fn) { this._listeners.add(fn); return () => this._listeners.delete(fn); }
  _notify() { for (const fn of this._listeners) fn(); }

  open() {
    const conn = new autobahn.Connection({
      url: this.cfg.url, realm: this.cfg.realm, use_es6_promises: true,
      max_retries: -1, initial_retry_delay: 0.5, max_retry_delay: 5, retry_delay_growth: 1.5,
    });
    conn.onopen = (session) => {
      this.session = session;
      this.state = 'connected';
      this.detail = '';
      for (const sub of this._subs) this._attach(sub);
      this._notify();
    };
    conn.onclose = (reason, details) => {
      this.session = null;
      for (const sub of this._subs) sub.handle = null;
      this.state = details && details.will_retry ? 'reconnecting' : 'disconnected';
      this.detail = (details && details.reason) || reason || '';
      this._notify();
      return false;
    };
    this.connection = conn;
    conn.open();
  }

  /** Call `uri`; resolves to the result (the first positional one). */
  call(uri, args = [], kwargs = {}) {
    if (!this.session) return Promise.reject(new Error(`not connected to the router (${this.state})`));
    const answer = this.session.call(uri, args, kwargs);
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${uri} did not answer within ${CALL_TIMEOUT_S} s`)),
        CALL_TIMEOUT_S * 1000);
    });
    return Promise.race([answer, late]).finally(() => clearTimeout(timer));
  }

  /** `<address>.ops(action, op_name, params, password=...)`; resolves to [status, message, session]. */
  async ops(address, action, opName, params, password) {
    const kwargs = password ? { password } : {};
    const reply = await this.call(`${address}.ops`, [action, opName, params || {}], kwargs);
    if (!Array.isArray(reply) || reply.length < 3) {
      throw new Error(`${address}.ops ${action} ${opName}: unexpected reply ${JSON.stringify(reply)}`);
    }
    return reply;
  }

  /** The agent's management call, e.g. api(address) for get_api. */
  api(address, q = 'get_api') { return this.call(address, [q]); }

  /** Subscribe `handler(args, kwargs, details)` to `topic`; returns a function that unsubscribes. */
  subscribe(topic, handler, options = {}) {
    const sub = { topic, handler, options, handle: null, dropped: false };
    this._subs.add(sub);
    if (this.session) this._attach(sub);
    return () => {
      sub.dropped = true;
      this._subs.delete(sub);
      if (sub.handle && this.session) this.session.unsubscribe(sub.handle).catch(() => {});
    };
  }

  _attach(sub) {
    const session = this.session;
    session.subscribe(sub.topic, sub.handler, sub.options).then((handle) => {
      if (sub.dropped || session !== this.session) {
        session.unsubscribe(handle).catch(() => {});
      } else {
        sub.handle = handle;
      }
    }, (e) => {
      sub.error = e;
      this.detail = `subscribe ${sub.topic} refused: ${e.error || e}`;
      this._notify();
    });
  }
}
