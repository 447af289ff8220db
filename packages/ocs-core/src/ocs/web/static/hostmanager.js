// The HostManager's own view: each managed agent with its state and Up /
// Down buttons (the `update` task with `requests=[[instance_id, state]]`),
// read from the `manager` Process's session.data.
import { html, useState, useInterval, agentHref, errorText } from './lib.js';

const POLL_MS = 1500;

export function HostManagerView({ agent }) {
  const [data, setData] = useState(null);
  const [problem, setProblem] = useState('');
  const [replies, setReplies] = useState({});     // instance_id -> {ok, text}

  const poll = async () => {
    try {
      const [status, message, s] = await agent.ops('status', 'manager');
      if (status !== 0) { setProblem(message); return; }
      setData(s && s.data ? s.data : null);
      setProblem(s && s.status === 'running' ? '' : `The manager Process is ${s && s.status ? s.status : 'not running'}: start it below.`);
    } catch (e) { setProblem(errorText(e)); }
  };
  useInterval(poll, POLL_MS);

  const request = async (id, state) => {
    setReplies({ ...replies, [id]: { ok: true, text: `${state} requested ...` } });
    let reply;
    try {
      const [status, message] = await agent.ops('start', 'update', { requests: [[id, state]] });
      reply = { ok: status === 0, text: message };
      if (status === 0) {       // the task's own answer, e.g. "Update requested: 1 instance(s) -> up"
        const [, , s] = await agent.wait('update', 5);
        const said = s && Array.isArray(s.messages)
          ? s.messages.map((m) => m[1]).filter((t) => !/^Status is now "/.test(t)).pop() : null;
        if (s && s.status === 'done' && said) reply = { ok: !!s.success, text: said };
      }
    } catch (e) { reply = { ok: false, text: errorText(e) }; }
    setReplies((r) => ({ ...r, [id]: reply }));
    poll();
  };

  const children = (data && Array.isArray(data.child_states)) ? data.child_states : [];
  const root = agent.address.slice(0, agent.address.lastIndexOf('.'));
  return html`<section class="hostmanager">
    <h2>Managed agents</h2>
    ${problem && html`<p class="op-error">${problem}</p>`}
    <table class="children">
      <thead><tr><th>Agent</th><th>Class</th><th>Target</th><th>Now</th><th>Stability</th><th></th></tr></thead>
      <tbody>${children.map((c) => {
        const r = replies[c.instance_id];
        const now = c.next_action || '';
        const cls = now === 'up' ? 'up' : (now === 'down' ? 'down' : 'warn');
        return html`<tr key=${c.instance_id} class="child" data-instance=${c.instance_id} data-state=${now}>
          <td><a href=${agentHref(`${root}.${c.instance_id}`)}>${c.instance_id}</a></td>
          <td>${c.agent_class}</td>
          <td>${c.target_state}</td>
          <td><span class=${`badge ${cls}`}>${now}</span>${c.unstable ? html` <span class="badge bad">unstable</span>` : ''}</td>
          <td>${typeof c.stability === 'number' ? c.stability.toFixed(2) : ''}</td>
          <td class="actions">
            <button class="up" disabled=${c.target_state === 'up'} onClick=${() => request(c.instance_id, 'up')}>Up</button>
            <button class="down" disabled=${c.target_state === 'down'} onClick=${() => request(c.instance_id, 'down')}>Down</button>
            ${r && html`<span class=${r.ok ? 'op-reply' : 'op-error'}>${r.text}</span>`}
          </td></tr>`;
      })}</tbody>
    </table>
    ${data && children.length === 0 && html`<p class="muted">This HostManager manages no agent.</p>`}
  </section>`;
}
