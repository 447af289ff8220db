"""ocs.client_t (WAMP control scripts) against a real Crossbar and a real
FakeData agent. Each script runs in its own process, since it runs the
Twisted reactor."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from ocs.testing import free_port

SCRIPT = textwrap.dedent('''
    import json, sys
    from twisted.internet.defer import inlineCallbacks
    from ocs import client_t, site_config
    from ocs.client_t import ProcessClient, TaskClient

    @inlineCallbacks
    def script(app, pargs, extra, flag=None):
        addr = pargs.root_address + '.' + pargs.target
        out = {'extra': extra, 'flag': flag, 'address_root': pargs.address_root,
               'serializer': app.join_details.serializer,
               'numpy_loaded': 'numpy' in sys.modules}
        if pargs.join_only:
            print('RESULT ' + json.dumps(out), flush=True)
            return out
        if pargs.fail:
            raise ValueError('script asked to fail')
        task = TaskClient(app, addr, 'delay_task')
        r = yield task.start(params={'delay': 0.05})
        out['start'] = [r.status, r.msg]
        r = yield task.wait(timeout=5)
        out['wait'] = [r.status, r.session['status'], r.session['success']]
        r = yield task.start(params={'delay': 10})
        r = yield task.wait(timeout=0.1)
        out['timeout'] = r.status
        r = yield task.abort()
        r = yield task.wait(timeout=5)
        out['aborted'] = [r.status, r.session['status']]
        proc = ProcessClient(app, addr, 'count')
        yield proc.start()
        r = yield proc.status()
        out['proc_status'] = r.session['status']
        yield proc.stop()
        r = yield proc.wait(timeout=5)
        out['proc_done'] = r.session['status']
        r = yield TaskClient(app, addr, 'delay_task').start(params={'delay': 'soon'})
        out['bad_param'] = r.status
        print('RESULT ' + json.dumps(out), flush=True)
        return out

    parser = site_config.add_arguments()
    parser.add_argument('--target')
    parser.add_argument('--fail', action='store_true')
    parser.add_argument('--join-only', action='store_true')
    result = client_t.run_control_script(script, parser, 'positional', flag='kw')
    print('RETURNED ' + json.dumps(sorted(result)), flush=True)
''')


def run_script(tmp_path, argv, timeout=60, env=None):
    path = tmp_path / 'control_script.py'
    path.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(path)] + argv, capture_output=True,
                          text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


def script_result(p):
    lines = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    assert p.returncode == 0 and lines, p.stdout + p.stderr
    return json.loads(lines[0][len('RESULT '):])


@pytest.fixture(scope='module')
def faker(ocs_router, tmp_path_factory):
    from ocs.testing import AgentLauncher
    launcher = AgentLauncher(ocs_router, tmp_path_factory.mktemp('faker-t'))
    site = ocs_router.write_site([{'instance-id': 'faker-t1', 'agent-class': 'FakeDataAgent',
                                   'arguments': [['--mode', 'idle']]}])
    try:
        launcher('faker-t1', site_file=site)
        yield site
    finally:
        launcher.stop_all()


@pytest.mark.integration
def test_control_script_drives_a_real_agent(faker, tmp_path):
    p = run_script(tmp_path, ['--site-file', faker, '--target', 'faker-t1'])
    out = script_result(p)
    assert out['extra'] == 'positional' and out['flag'] == 'kw'
    assert out['address_root'] == 'observatory'
    assert out['start'][0] == 0
    assert out['wait'] == [0, 'done', True]
    assert out['timeout'] == 1                  # ocs.TIMEOUT
    assert out['aborted'] == [0, 'done']
    assert out['proc_status'] in ('starting', 'running')
    assert out['proc_done'] == 'done'
    assert out['bad_param'] == -1               # ocs.ERROR
    assert 'RETURNED ' in p.stdout


@pytest.mark.integration
def test_control_script_error_is_raised(faker, tmp_path):
    p = run_script(tmp_path, ['--site-file', faker, '--target', 'faker-t1', '--fail'])
    assert p.returncode == 1
    assert 'ValueError: script asked to fail' in p.stderr


@pytest.mark.integration
def test_control_script_without_router(faker, tmp_path):
    hub = f'ws://127.0.0.1:{free_port()}/ws'
    p = run_script(tmp_path, ['--site-file', faker, '--target', 'x', '--site-hub', hub],
                   timeout=60)
    assert p.returncode == 1
    assert 'ConnectionError' in p.stderr and hub in p.stderr


@pytest.mark.integration
def test_control_script_wrong_realm(faker, tmp_path):
    p = run_script(tmp_path, ['--site-file', faker, '--target', 'x',
                              '--site-realm', 'no_such_realm'], timeout=60)
    assert p.returncode == 1
    assert "could not join realm 'no_such_realm'" in p.stderr


@pytest.mark.integration
def test_control_script_speaks_the_agents_serializers(faker, tmp_path):
    """Scripts offer what agents offer: MessagePack first, OCS_WAMP_SERIALIZER
    honoured, an unknown name refused; autobahn's default list would also
    have loaded numpy (through FlatBuffers), which the script never uses."""
    argv = ['--site-file', faker, '--target', 'faker-t1', '--join-only']
    out = script_result(run_script(tmp_path, argv, env={'OCS_WAMP_SERIALIZER': ''}))
    assert out['serializer'] == 'msgpack'
    assert out['numpy_loaded'] is False
    out = script_result(run_script(tmp_path, argv, env={'OCS_WAMP_SERIALIZER': 'cbor'}))
    assert out['serializer'] == 'cbor'
    p = run_script(tmp_path, argv, env={'OCS_WAMP_SERIALIZER': 'xml'})
    assert p.returncode == 1
    assert "OCS_WAMP_SERIALIZER='xml'" in p.stderr
