// One Task or Process on an agent page: docstring, parameter form, Start and
// Stop/Abort, live status (polled), progress from session.data, the
// message log and session.data as a tree. A refused call shows the agent's
// reply text next to the buttons.
import { html, useState, useEffect, useRef, clock, duration, errorText } from './lib.js';
import { ParamForm, initialValues, collectParams } from './param-form.js';
import { DataTree } from './tree.js';

const ACTIVE_POLL_MS = 700;
const IDLE_POLL_MS = 3000;

/** Fraction done (0..1) read from common session.data shapes, else null. */
export function progressOf(data) {
  if (!data || typeof data !== 'object') return null;
  const num = (v) => typeof v === 'number' && isFinite(v);
  const frac = (a, b) => (num(a) && num(b) && b > 0 ? Math.max(0, Math.min(1, a / b)) : null);
  if (num(data.progress)) return Math.max(0, Math.min(1, data.progress > 1 ? data.progress / 100 : data.progress));
  for (const key of Object.keys(data)) {
    const m = /^(.+)_so_far$/.exec(key);
    if (!m) continue;
    for (const total of [`requested_${m[1]}`, `${m[1]}_total`, `total_${m[1]}`]) {
      const f = frac(data[key], data[total]);
      if (f != null) return f;
    }
  }
  for (const [a, b] of [['done', 'total'], ['current', 'total'], ['count', 'total'], ['step', 'steps']]) {
    const f = frac(data[a], data[b]);
    if (f != null) return f;
  }
  return null;
}

/** "done - OK", "done - FAILED", "running", ... */
export function statusText(session) {
  if (!session || !session.status) return 'no history';
  if (session.status === 'no_history') return 'no history';
  if (session.status === 'done') return `done - ${session.success ? 'OK' : 'FAILED'}`;
  return session.degraded ? `${session.status} (degraded)` : session.status;
}

function statusClass(session) {
  if (!session || !session.status || session.status === 'no_history') return '';
  if (session.status === 'done') return session.success ? 'ok' : 'bad';
  return session.degraded ? 'warn' : 'run';
}

function Doc({ text }) {
  if (!text) return null;
  // The summary: the paragraph naming the op's kind (reference style), else the first one.
  const paras = text.trim().split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim());
  const head = paras.find((p) => /\*\*(Task|Process)\*\*/.test(p)) || paras[0];
  return html`<details class="doc"><summary>${head.replace(/\*\*/g, '')}</summary>
    <pre>${text.trim()}</pre></details>`;
}

export function OpCard({ agent, name, info, initial }) {
  const isTask = info.op_type === 'task';
  const [session, setSession] = useState(initial && initial.status !== 'no_history' ? initial : null);
  const [values, setValues] = useState(() => initialValues(info.params));
  const [reply, setReply] = useState(null);      // {ok, text}
  const [busy, setBusy] = useState(false);
  const alive = useRef(true);
  const log = useRef(null);
  const active = session && session.status && !['done', 'no_history'].includes(session.status);

  const poll = async () => {
    try {
      const [status, , s] = await agent.ops('status', name);
      if (alive.current && status === 0 && s && s.op_name) setSession(s);
    } catch (e) { /* the page header shows connection problems */ }
  };
  useEffect(() => () => { alive.current = false; }, []);
  useEffect(() => {
    const id = setInterval(poll, active ? ACTIVE_POLL_MS : IDLE_POLL_MS);
    return () => clearInterval(id);
  }, [active, agent]);

  const act = async (action) => {
    let params = {};
    if (action === 'start') {
      try { params = collectParams(info.params, values); } catch (e) {
        setReply({ ok: false, text: e.message });
        return;
      }
    }
    setBusy(true);
    try {
      const [status, message, s] = await agent.ops(action, name, params);
      setReply({ ok: status === 0, text: message });
      if (s && s.op_name) setSession(s);
    } catch (e) {
      setReply({ ok: false, text: errorText(e) });
    } finally {
      setBusy(false);
    }
    poll();
  };

  const progress = session && progressOf(session.data);
  const messages = (session && session.messages) || [];
  useEffect(() => { if (log.current) log.current.scrollTop = log.current.scrollHeight; }, [messages.length]);
  const took = session && session.start_time
    ? ((session.end_time || Date.now() / 1000) - session.start_time) : null;
  return html`
    <section class="op" data-op=${name} id=${`op-${name}`}>
      <h3>${name}
        <span class="badge">${isTask ? 'Task' : 'Process'}</span>
        ${info.min_privs > 1 && html`<span class="badge warn" title="credential level this op needs">level ${info.min_privs}</span>`}
        <span class=${`badge status ${statusClass(session)}`} data-status>${statusText(session)}</span>
      </h3>
      <${Doc} text=${info.docstring} />
      <${ParamForm} meta=${info.params} values=${values} onChange=${setValues} onSubmit=${() => act('start')} />
      <div class="actions">
        <button class="start" disabled=${busy} onClick=${() => act('start')}>Start</button>
        ${isTask
          ? info.abortable !== false && html`<button class="abort" disabled=${busy} onClick=${() => act('abort')}>Abort</button>`
          : html`<button class="stop" disabled=${busy} onClick=${() => act('stop')}>Stop</button>`}
        ${reply && html`<span class=${reply.ok ? 'op-reply' : 'op-error'} role=${reply.ok ? 'status' : 'alert'}>${reply.text}</span>`}
      </div>
      ${session && html`
        <div class="status-line">
          ${session.start_time ? `started ${clock(session.start_time)}` : ''}
          ${took != null ? ` · ${duration(took)}` : ''}
          ${session.end_time ? ` · ended ${clock(session.end_time)}` : ''}
          ${progress != null && html` <span class="progress" title=${`${Math.round(progress * 100)} %`}>
            <div style=${`width:${(progress * 100).toFixed(1)}%`}></div></span>
            <span class="pct">${Math.round(progress * 100)} %</span>`}
        </div>
        ${messages.length > 0 && html`<div class="msglog" ref=${log}>${messages.slice(-50).map(([t, text]) => html`
          <div><span class="muted">${clock(t)}</span> ${text}</div>`)}</div>`}
        ${session.data != null && html`<div class="data"><span class="muted small">session.data</span>
          <${DataTree} value=${session.data} /></div>`}`}
    </section>`;
}
