"""The web panel in a real browser (headless Chromium driven by playwright).

The router serves the panel at ``/`` (``ocs.web``); a Registry, a FakeData
agent (access policy ``override``, so delay_task needs a level-2 password),
a HostManager with one managed Barebones agent, and a released ocs 0.12.1
FakeData run as real processes. The page is opened as an operator would
and every step is saved as a screenshot under this module's tmp folder
(``web-panel-shots*``). Skipped, with the reason, only where Chromium or
playwright cannot start.
"""
import shutil
import time

import pytest

from ocs.testing.agents import AgentLauncher

pytestmark = pytest.mark.integration

PW2 = 'panel-pw2'
ACCESS = f'override:{PW2},panel-pw3'
#: Longest a page element may take to show what the agents did.
UI_TIMEOUT_MS = 20000


def _chromium():
    return shutil.which('chromium') or shutil.which('chromium-browser')


@pytest.fixture(scope='module')
def browser():
    exe = _chromium()
    if not exe:
        pytest.skip('web panel tier skipped: no chromium executable (Debian package '
                    'chromium, deploy/scripts/install-system-deps.sh)')
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip('web panel tier skipped: Python playwright is not installed '
                    '(requirements-dev.txt)')
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=exe, headless=True)
    except Exception as e:      # noqa: BLE001 - any failure to start means "cannot run here"
        pw.stop()
        pytest.skip(f'web panel tier skipped: Chromium ({exe}) cannot start: {e}')
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@pytest.fixture(scope='module')
def site(ocs_router, tmp_path_factory):
    """Registry, FakeData (with a password policy) and a HostManager with one
    managed Barebones agent, shared by the whole module."""
    ocs_router.ensure_running()
    base = tmp_path_factory.mktemp('web-panel-agents')
    launcher = AgentLauncher(ocs_router, base)
    try:
        launcher('registry', 'RegistryAgent', wait=False)
        launcher('faker1', 'FakeDataAgent', args=['--access-policy', ACCESS], wait=False)
        hm_site = ocs_router.write_site(
            [{'instance-id': 'hm1', 'agent-class': 'HostManager'},
             {'instance-id': 'bare1', 'agent-class': 'BarebonesAgent'}],
            path=str(base / 'site-hm.yaml'))
        launcher('hm1', site_file=hm_site, wait=False)
        for agent in launcher.started:
            agent.wait_ready(30)
        yield launcher
    finally:
        launcher.stop_all()


class Panel:
    """One browser page on the panel, with its console errors and screenshots."""

    def __init__(self, page, url, shots):
        self.page, self.url, self.shots = page, url, shots
        self.errors = []
        self.count = 0
        page.on('console', lambda m: m.type == 'error' and self.errors.append(m.text))
        page.on('pageerror', lambda e: self.errors.append(f'page error: {e}'))

    def open(self, hash_=''):
        self.page.goto('about:blank')       # a fresh page, not an in-page hash change
        self.page.goto(self.url + hash_)
        self.page.wait_for_selector('[data-conn=connected]', timeout=UI_TIMEOUT_MS)

    def shot(self, name):
        self.count += 1
        path = self.shots / f'{self.count:02d}-{name}.png'
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def op(self, name):
        return self.page.locator(f'section.op[data-op="{name}"]')

    def status_of(self, name):
        return self.op(name).locator('[data-status]')


@pytest.fixture(scope='module')
def panel(browser, ocs_router, site, tmp_path_factory):
    shots = tmp_path_factory.mktemp('web-panel-shots')
    context = browser.new_context(viewport={'width': 1280, 'height': 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    url = f'http://127.0.0.1:{ocs_router.port}/'
    p = Panel(page, url, shots)
    try:
        yield p
    finally:
        print(f'web panel screenshots: {shots}')
        context.close()


@pytest.fixture(autouse=True)
def no_console_errors(request):
    """Every test ends with no error in the browser console."""
    yield
    if 'panel' in request.fixturenames:
        p = request.getfixturevalue('panel')
        errors, p.errors[:] = list(p.errors), []
        assert errors == [], f'browser console errors: {errors}'


def _wait_for(fn, timeout=15.0, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.2)


def _ops(router, instance, action, op, params=None, **kw):
    reply = router.call(f'observatory.{instance}.ops', action, op, params or {}, **kw)
    assert 'error' not in reply, reply
    return reply['args'][0]


def _ensure_acq(router):
    status, _, session = _ops(router, 'faker1', 'status', 'acq')
    if session.get('status') not in ('starting', 'running'):
        assert _ops(router, 'faker1', 'start', 'acq')[0] == 0


def test_agent_list_live_with_filter(panel):
    panel.open()
    page = panel.page
    for address in ('observatory.registry', 'observatory.faker1', 'observatory.hm1',
                    'observatory.bare1'):
        page.wait_for_selector(f'tr.agent-row[data-address="{address}"][data-state=alive]')
    page.wait_for_selector('.registry-note:has-text("Registry: observatory.registry")')
    # Host and PID come from the Registry's session data.
    page.wait_for_selector('tr[data-address="observatory.faker1"] td:nth-child(4):has-text("/")')
    panel.shot('agent-list')
    page.fill('input.filter', 'fakedata')
    page.wait_for_function("document.querySelectorAll('tr.agent-row').length === 1")
    assert page.locator('tr.agent-row').get_attribute('data-address') == 'observatory.faker1'
    panel.shot('agent-list-filtered')
    page.fill('input.filter', '')


def test_delay_task_needs_password_then_runs_with_progress(panel, ocs_router):
    panel.open('#/agent/observatory.faker1')
    page = panel.page
    card = panel.op('delay_task')
    card.locator('input[name=delay]').fill('4')
    assert card.locator('.badge:has-text("level 2")').count() == 1
    # No password: the agent refuses, and its reply shows next to the op.
    card.locator('button.start').click()
    refusal = card.locator('.op-error').inner_text()
    _, direct, _ = _ops(ocs_router, 'faker1', 'start', 'delay_task', {'delay': 4})
    assert refusal == direct and 'level' in refusal.lower()
    panel.shot('delay-task-refused')

    page.fill('input.password', PW2)
    card.locator('button.start').click()
    panel.status_of('delay_task').filter(has_text='running').wait_for()
    page.wait_for_function(
        """() => { const t = document.querySelector('section.op[data-op=delay_task] .pct');
                   const n = t && parseInt(t.textContent); return n > 0 && n < 100; }""")
    panel.shot('delay-task-progress')
    panel.status_of('delay_task').filter(has_text='done - OK').wait_for()
    assert 'Exited after' in card.locator('.msglog').inner_text()
    assert card.locator('.pct').inner_text() == '100 %'
    assert 'requested_delay' in card.locator('.data').inner_text()
    _, _, session = _ops(ocs_router, 'faker1', 'status', 'delay_task')
    assert session['status'] == 'done' and session['success'] is True
    assert session['data']['requested_delay'] == 4
    panel.shot('delay-task-done')


def test_bad_parameter_shows_the_agents_error(panel, ocs_router):
    panel.open('#/agent/observatory.faker1')
    panel.page.fill('input.password', PW2)
    card = panel.op('delay_task')
    card.locator('input[name=delay]').fill('-1')
    card.locator('button.start').click()
    shown = card.locator('.op-error').inner_text()
    _, direct, _ = _ops(ocs_router, 'faker1', 'start', 'delay_task', {'delay': -1},
                        password=PW2)
    assert shown == direct and 'delay' in shown
    # Text where a number belongs goes to the agent as text: its own error.
    card.locator('input[name=delay]').fill('soon')
    card.locator('button.start').click()
    card.locator('.op-error', has_text='soon').wait_for()
    panel.shot('bad-parameter')


def test_feed_plot_gains_points(panel, ocs_router):
    _ensure_acq(ocs_router)
    panel.open('#/agent/observatory.faker1')
    block = panel.page.locator('section.plot[data-feed=false_temperatures] .block[data-block=temps]')
    block.wait_for()
    first = int(block.get_attribute('data-points'))
    _wait_for(lambda: int(block.get_attribute('data-points')) >= first + 10, 10,
              'the plot to gain points')
    legend = panel.page.locator('section.plot[data-feed=false_temperatures] .u-legend').inner_text()
    assert 'channel_00' in legend and 'channel_01' in legend
    # Paused: the picture stops while data still comes in.
    panel.page.click('section.plot[data-feed=false_temperatures] button.pause')
    panel.shot('feed-plot')
    panel.page.click('section.plot[data-feed=false_temperatures] button.pause')


def test_start_acq_from_form_degraded_then_stop(panel, ocs_router):
    _ensure_acq(ocs_router)
    assert _ops(ocs_router, 'faker1', 'stop', 'acq')[0] == 0
    _wait_for(lambda: _ops(ocs_router, 'faker1', 'status', 'acq')[2]['status'] == 'done',
              10, 'acq to stop')
    panel.open('#/agent/observatory.faker1')
    page = panel.page
    acq = panel.op('acq')
    # 2.5 s, not 0.5: the session toggles on a fixed schedule and the heartbeat
    # is sent every 1 s, so a period that divides 1 s is sampled in one phase only.
    acq.locator('input[name=degradation_period]').fill('2.5')
    acq.locator('button.start').click()
    # The session flags itself degraded; the heartbeat carries it to the header badge.
    panel.status_of('acq').filter(has_text='degraded').wait_for()
    page.wait_for_selector('.agent-head [data-state=degraded]')
    panel.shot('acq-degraded')
    acq.locator('button.stop').click()
    panel.status_of('acq').filter(has_text='done - OK').wait_for()
    assert 'Acquisition exited cleanly' in acq.locator('.msglog').inner_text()
    _, _, session = _ops(ocs_router, 'faker1', 'status', 'acq')
    assert session['status'] == 'done' and session['success'] is True
    page.wait_for_selector('.agent-head [data-state=alive]')
    panel.shot('acq-stopped')


def test_hostmanager_down_and_up(panel, site, ocs_router):
    panel.open('#/agent/observatory.hm1')
    page = panel.page
    row = page.locator('tr.child[data-instance=bare1]')
    page.wait_for_selector('tr.child[data-instance=bare1][data-state=up]')
    _wait_for(lambda: 'args' in ocs_router.call('observatory.bare1', 'get_api'), 20,
              'bare1 to answer')
    panel.shot('hostmanager')
    row.locator('button.down').click()
    page.wait_for_selector('tr.child[data-instance=bare1][data-state=down]')
    assert 'Update requested' in row.locator('.op-reply').inner_text()
    assert row.locator('button.down').is_disabled() and not row.locator('button.up').is_disabled()
    _wait_for(lambda: 'error' in ocs_router.call_raw('observatory.bare1', ['get_api'],
                                                     timeout=3), 20, 'bare1 to go away')
    panel.shot('hostmanager-down')
    # The agent list shows it expired once its heartbeats stop.
    panel.open()
    page.wait_for_selector('tr.agent-row[data-address="observatory.bare1"][data-state=expired]')
    page.wait_for_selector('tr.agent-row[data-address="observatory.faker1"][data-state=alive]')
    panel.shot('agent-list-expired')
    panel.open('#/agent/observatory.hm1')
    row.locator('button.up').click()
    page.wait_for_selector('tr.child[data-instance=bare1][data-state=up]')
    _wait_for(lambda: 'args' in ocs_router.call_raw('observatory.bare1', ['get_api'],
                                                    timeout=3), 30, 'bare1 back up')
    panel.shot('hostmanager-up')


def test_ocs012_agent_free_form_params(panel, old_ocs, ocs_router, tmp_path):
    launcher = AgentLauncher(ocs_router, tmp_path / 'agents')
    try:
        launcher('faker012', 'FakeDataAgent', site_args=[['--mode', 'idle']],
                 venv=old_ocs.venv, ready_timeout=30)
        panel.open()
        panel.page.wait_for_selector(
            'tr.agent-row[data-address="observatory.faker012"][data-state=alive]')
        panel.open('#/agent/observatory.faker012')
        card = panel.op('delay_task')
        box = card.locator('textarea[name=params-json]')
        assert box.input_value() == '{}'
        assert card.locator('input[name=delay]').count() == 0
        box.fill('{"delay": 0.5}')
        card.locator('button.start').click()
        panel.status_of('delay_task').filter(has_text='done - OK').wait_for()
        box.fill('{"delay": "x"}')
        card.locator('button.start').click()
        assert 'delay' in card.locator('.op-error').inner_text()
        box.fill('{"delay": ')
        card.locator('button.start').click()
        card.locator('.op-error', has_text='not valid JSON').wait_for()
        panel.shot('ocs012-agent')
    finally:
        launcher.stop_all(timeout=2)


SITE_VIEW = """
import { html } from './lib.js';
import { registerView } from './views.js';
function FakerView({ agent }) {
  return html`<p class="custom-view">custom view of ${agent.address}: ${agent.api.feeds.length} feed(s)</p>`;
}
registerView('FakeDataAgent', FakerView);
"""


def test_site_view_hook(browser, ocs_router, site, tmp_path):
    """A site's site-views.js registers a view for one agent class.

    The file is served to this page by playwright's request routing (a
    stand-in for a site's copy of the panel, which needs a second router);
    everything else comes from the router.
    """
    page = browser.new_page()
    errors = []
    page.on('console', lambda m: m.type == 'error' and errors.append(m.text))
    try:
        page.route('**/site-views.js', lambda route: route.fulfill(
            status=200, content_type='text/javascript', body=SITE_VIEW))
        page.goto(f'http://127.0.0.1:{ocs_router.port}/#/agent/observatory.faker1')
        view = page.locator('p.custom-view')
        view.wait_for(timeout=UI_TIMEOUT_MS)
        assert view.inner_text() == 'custom view of observatory.faker1: 2 feed(s)'
        # The generic operations stay; other classes do not get the view.
        page.locator('section.op[data-op=delay_task]').wait_for()
        page.goto('about:blank')
        page.goto(f'http://127.0.0.1:{ocs_router.port}/#/agent/observatory.registry')
        page.locator('section.op[data-op=main]').wait_for(timeout=UI_TIMEOUT_MS)
        assert page.locator('p.custom-view').count() == 0
        page.screenshot(path=str(tmp_path / 'site-view.png'))
    finally:
        page.close()
    assert errors == []


PURE_CHECKS = """async () => {
  const form = await import('./param-form.js');
  const card = await import('./op-card.js');
  const plots = await import('./plots.js');
  const out = {};
  const meta = [
    {name: 'delay', type: 'float', required: false, default: 5},
    {name: 'n', type: 'int', required: true, default: null},
    {name: 'mode', type: 'str', required: false, default: null, choices: ['a', 'b']},
    {name: 'on', type: 'bool', required: false, default: true},
    {name: 'requests', type: 'list', required: false, default: []},
    {name: 'label', type: 'str', required: false, default: null},
  ];
  const v = form.initialValues(meta);
  out.initial = v;
  const grab = (values) => { try { return form.collectParams(meta, values); } catch (e) { return 'ERR ' + e.message; } };
  out.missing = grab(v);
  out.full = grab({...v, n: '3', mode: '1', on: false, requests: '[["x", "up"]]', label: 'hi'});
  out.text_number = grab({...v, n: 'three'});
  out.bad_json = grab({...v, n: '1', requests: '[1,'});
  out.free = form.collectParams(null, {__extra_json__: '{"delay": 1}'});
  out.free_bad = (() => { try { form.collectParams(null, {__extra_json__: '[1]'}); } catch (e) { return e.message; } })();
  out.progress = [card.progressOf({requested_delay: 4, delay_so_far: 1}), card.progressOf({progress: 50}),
                  card.progressOf({done: 3, total: 4}), card.progressOf({fields: {}}), card.progressOf(null)];
  out.status = [card.statusText({status: 'done', success: true}), card.statusText({status: 'done', success: false}),
                card.statusText({status: 'running', degraded: true}), card.statusText(null)];
  const buf = new plots.FeedBuffer();
  buf.add({b: {block_name: 'b', timestamps: [1, 2], data: {x: [1, 2], s: ['p', 'q']}}});
  buf.add({b: {block_name: 'b', timestamps: [100], data: {x: [null], y: [7]}}});
  buf.trim(50);
  const b = buf.blocks.get('b');
  out.buffer = {t: b.t, fields: b.fields, skipped: [...buf.skipped]};
  return out;
}"""


def test_panel_logic_in_the_browser(panel):
    """The panel's pure functions (form values to params, progress, status
    text, feed buffering), run in the browser as the page loads them."""
    panel.open()
    out = panel.page.evaluate(PURE_CHECKS)
    assert out['initial'] == {'delay': '5', 'n': '', 'mode': '', 'on': True,
                              'requests': '[]', 'label': ''}
    assert out['missing'] == 'ERR n is required'
    assert out['full'] == {'delay': 5, 'n': 3, 'mode': 'b', 'on': False,
                           'requests': [['x', 'up']], 'label': 'hi'}
    # Text that is not a number goes to the agent as it is: the agent names it.
    assert out['text_number']['n'] == 'three'
    assert out['bad_json'].startswith('ERR requests: not valid JSON (list expected)')
    assert out['free'] == {'delay': 1}
    assert out['free_bad'] == 'params: expected a JSON object, e.g. {"delay": 1}'
    assert out['progress'] == [0.25, 0.5, 0.75, None, None]
    assert out['status'] == ['done - OK', 'done - FAILED', 'running (degraded)', 'no history']
    # Samples older than the window are dropped; a new field is padded with
    # nulls; text fields are not plotted.
    assert out['buffer'] == {'t': [100], 'fields': {'x': [None], 'y': [7]}, 'skipped': ['s']}


PAGE_STATE = """(address) => {
  const p = window.ocsPanel, e = p.directory.get(address);
  return {wamp: p.wamp.state, detail: p.wamp.detail,
          subs: [...p.wamp._subs].map((s) => [s.topic, !!s.handle, String(s.error || '')]),
          heartbeat_age: e && e.lastBeat ? (Date.now() - e.lastBeat) / 1000 : null};
}"""


def test_panel_reconnects_after_a_router_restart(browser, tmp_path):
    """The page keeps working through a router restart: it reconnects by
    itself, subscriptions come back, the plot goes on gaining points.
    (Its own router: the shared one must not be stopped.)"""
    from ocs.testing.router import RouterProcess

    with RouterProcess(cbdir=tmp_path / 'cbdir', site_dir=tmp_path) as router:
        launcher = AgentLauncher(router, tmp_path / 'agents')
        page = browser.new_page()
        try:
            # The agent waits for the router however long it takes to come back
            # (Crossbar can take over 10 s to restart on a loaded machine).
            launcher('faker-rc', 'FakeDataAgent', args=['--crossbar-timeout', '0'],
                     ready_timeout=30)
            page.goto(f'http://127.0.0.1:{router.port}/#/agent/observatory.faker-rc')
            block = page.locator('.block[data-block=temps]')
            block.wait_for(timeout=UI_TIMEOUT_MS)
            router.restart()
            page.wait_for_selector('[data-conn=connected]', timeout=60000)
            after = int(block.get_attribute('data-points'))
            try:
                _wait_for(lambda: int(block.get_attribute('data-points')) >= after + 10, 30,
                          'points after the router came back')
            except AssertionError:
                state = page.evaluate(PAGE_STATE, 'observatory.faker-rc')
                raise AssertionError(f'no new points after the router restart; page: {state}; '
                                     f'agent log:\n{launcher.started[0].log_tail(25)}') from None
            page.wait_for_selector('.agent-head [data-state=alive]')
            card = page.locator('section.op[data-op=delay_task]')
            card.locator('input[name=delay]').fill('0.2')
            card.locator('button.start').click()
            card.locator('[data-status]', has_text='done - OK').wait_for(timeout=UI_TIMEOUT_MS)
            page.screenshot(path=str(tmp_path / 'reconnected.png'))
        finally:
            page.close()
            launcher.stop_all()
