// A form for an operation's parameters, built from the `params` metadata
// that get_api carries for each op (ocs.runtime.param_meta). Agents without
// it (e.g. ocs 0.12.1) get a free-form JSON box. The agent stays the judge
// of the values: text that is not a number is sent as text, so the agent's
// own error names the parameter.
import { html } from './lib.js';

export const STRAYS = '_no_check_strays';
export const EXTRA = '__extra_json__';

const isNumeric = (t) => /\b(int|float)\b/.test(t || '');
const isJsonish = (t) => /\b(list|dict)\b/.test(t || '');

/** The fields shown for `meta` (the op's params list, or null for a JSON box). */
export function fields(meta) {
  if (!Array.isArray(meta)) return [];
  return meta.filter((p) => p && typeof p.name === 'string' && p.name !== STRAYS);
}

export function freeForm(meta) {
  return !Array.isArray(meta) || meta.some((p) => p && p.name === STRAYS);
}

/** The form's starting values: each param's default, as text for text boxes. */
export function initialValues(meta) {
  const values = {};
  for (const p of fields(meta)) {
    if (p.type === 'bool' && !p.choices) values[p.name] = p.default === true;
    else if (p.choices) values[p.name] = p.default == null ? '' : String(p.choices.findIndex((c) => c === p.default));
    else if (p.default == null) values[p.name] = '';
    else if (typeof p.default === 'string') values[p.name] = p.default;
    else values[p.name] = JSON.stringify(p.default);
  }
  if (freeForm(meta)) values[EXTRA] = Array.isArray(meta) ? '' : '{}';
  return values;
}

function convert(p, text) {
  const t = text.trim();
  if (isNumeric(p.type)) {
    if (t !== '' && isFinite(Number(t))) return Number(t);
    return text;                       // the agent says what is wrong with it
  }
  if (isJsonish(p.type)) {
    try { return JSON.parse(t); } catch (e) {
      throw new Error(`${p.name}: not valid JSON (${p.type} expected): ${e.message}`);
    }
  }
  if (p.type === 'str') return text;
  try { return JSON.parse(t); } catch (e) { return text; }
}

/** The params dict to send, from the form's values. Throws Error with a readable text. */
export function collectParams(meta, values) {
  const params = {};
  for (const p of fields(meta)) {
    const v = values[p.name];
    if (p.choices) {
      if (v === '' || v == null) {
        if (p.required) throw new Error(`${p.name}: choose one of ${JSON.stringify(p.choices)}`);
        continue;
      }
      params[p.name] = p.choices[Number(v)];
    } else if (p.type === 'bool') {
      params[p.name] = !!v;
    } else if (v === '' && !(p.type === 'str' && p.default != null)) {
      if (p.required) throw new Error(`${p.name} is required`);
    } else {
      params[p.name] = convert(p, String(v));
    }
  }
  if (freeForm(meta)) {
    const text = (values[EXTRA] || '').trim();
    if (text) {
      let extra;
      try { extra = JSON.parse(text); } catch (e) {
        throw new Error(`params: not valid JSON: ${e.message}`);
      }
      if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
        throw new Error('params: expected a JSON object, e.g. {"delay": 1}');
      }
      Object.assign(params, extra);
    }
  }
  return params;
}

function hint(p) {
  const bits = [];
  if (p.type) bits.push(p.type);
  bits.push(p.required ? 'required' : `default ${JSON.stringify(p.default)}`);
  if (p.check) bits.push(`check: ${p.check}`);
  if (p.cast) bits.push(`cast to ${p.cast}`);
  return bits.join(' · ');
}

function input(p, value, set) {
  const id = `p-${p.name}`;
  if (p.choices) {
    return html`<select name=${p.name} id=${id} value=${value} onChange=${(e) => set(e.target.value)}>
      ${!p.required && p.default == null && html`<option value="">(default)</option>`}
      ${p.choices.map((c, i) => html`<option value=${String(i)}>${JSON.stringify(c)}</option>`)}
    </select>`;
  }
  if (p.type === 'bool') {
    return html`<input type="checkbox" name=${p.name} id=${id} checked=${value} onChange=${(e) => set(e.target.checked)} />`;
  }
  if (isJsonish(p.type)) {
    return html`<textarea name=${p.name} id=${id} rows="2" value=${value} onInput=${(e) => set(e.target.value)}></textarea>`;
  }
  return html`<input type="text" name=${p.name} id=${id} value=${value} autocomplete="off"
    inputmode=${isNumeric(p.type) ? 'decimal' : 'text'} onInput=${(e) => set(e.target.value)} />`;
}

/** The form; `values` and `onChange(values)` belong to the caller. */
export function ParamForm({ meta, values, onChange, onSubmit }) {
  const set = (name) => (v) => onChange({ ...values, [name]: v });
  const list = fields(meta);
  const submit = (e) => { e.preventDefault(); onSubmit && onSubmit(); };
  return html`<form class="params" onSubmit=${submit}>
    ${Array.isArray(meta) && list.length === 0 && !freeForm(meta) && html`<span class="muted">No parameters.</span>`}
    ${list.map((p) => html`
      <label for=${`p-${p.name}`}>${p.name}</label>${input(p, values[p.name], set(p.name))}
      <span class="hint">${hint(p)}</span>`)}
    ${freeForm(meta) && html`
      <label>params</label>
      <textarea name="params-json" rows="2" value=${values[EXTRA]} placeholder='{"name": value}'
        onInput=${(e) => set(EXTRA)(e.target.value)}></textarea>
      <span class="hint">${Array.isArray(meta) ? 'other params, as JSON' : 'free-form JSON: this agent does not describe its params'}</span>`}
    <button type="submit" hidden></button>
  </form>`;
}
