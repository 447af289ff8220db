"""ocs 0.12.1's module-level HostManager names against ours, each in its own
process: the constants, ``_clsname_tool``, ``_decode``, ``_deyaml``, the
modules 0.12.1's agent module offers, and ``_run_docker`` /
``_inspectContainer``, which run the real ``docker`` command line: with no
engine reachable (always), and against the private test engine (docker
tier, skipped where dockerd cannot run).

Results (or exception types) must be equal; DELIBERATE lists where ours
differs on purpose (also in docs/compatibility.md).
"""
import json
import os
import shutil
import sys

import pytest
import yaml

from ocs.testing.differential import PRELUDE, assert_same, run_cases

SNIPPET = PRELUDE + r'''
import json, sys
from twisted.internet import reactor, defer
from ocs.agents.host_manager import agent, drivers
record = case
@defer.inlineCallbacks
def record_d(name, fn):
    try:
        d = fn()
        out[name + '_returns'] = type(d).__name__
        out[name] = ['ok', norm((yield d))]
    except Exception as e:
        out[name] = raised(e)
args = json.loads(sys.argv[1])
if args['pure']:
    record('consts', lambda: [drivers.WAIT_DEAD_TIME, drivers.WAIT_START_TIME_FOLLOWUP,
                              drivers.WAIT_START_TIME_INIT, agent.NONAGENT_DOCKER,
                              agent.VALID_TARGETS])
    record('modules', lambda: [agent.agent_cli.__name__, agent.hm_utils.__name__,
                               agent.ocs.__name__])
    for i, a in enumerate([('FakeDataAgent',), ('FakeDataAgent', '[d]'), ('FakeDataAgent[d]',),
                           ('FakeDataAgent[d]', None), ('FakeDataAgent[d?]', '[x]'),
                           ('[docker]',), ('[docker]', '[d]'), ('a[b][c]',), ('a[b][c]', '[z]'),
                           ('',), ('', '[d]'), ('Foo[',), ('Foo]',), ('Fake[d]Data',),
                           ('Fake[d]Data', '[e]'), ('Foo[d]', ''), (None,), (5,), ('x', 5)]):
        record(f'clsname_{i}', lambda: agent._clsname_tool(*a))
    record('clsname_kw', lambda: agent._clsname_tool(name='A[d]', new_suffix='[d?]'))
    for i, a in enumerate([(b'out', b'err', 0), [b'a', b'b', 3], (b'\xc3\xa9', b'', 1),
                           (b'\xff', b'', 0), ('a', b'b', 0), (b'x', b'y'), b'abc', None]):
        record(f'decode_{i}', lambda: drivers._decode(a))
    for i, a in enumerate([(b'a: 1\nb: [1, 2]\n', b'', 0), ('a: 1', 'e', 0), ['[{"Id": "x"}]', '', 0],
                           ('a: [', '', 0), ('', '', 0), ('a: 1', ''), None]):
        record(f'deyaml_{i}', lambda: drivers._deyaml(a))
@defer.inlineCallbacks
def main():
    try:
        for i, call in enumerate(args['runs']):
            yield record_d(f'run_{i}', lambda: drivers._run_docker(*call[0], **call[1]))
        for i, (cid, f) in enumerate(args['inspects']):
            yield record_d(f'inspect_{i}', lambda: drivers._inspectContainer(cid, f))
    finally:
        reactor.stop()
reactor.callWhenRunning(main)
reactor.run()
print(json.dumps(out, sort_keys=True))
'''

#: Case -> why ours differs.
DELIBERATE = {}
#: With no engine (and, on an engine, for a missing container) docker exits
#: non-zero; 0.12.1 then fails with AttributeError decoding its message
#: twice, ours raises RuntimeError with docker's message.
FAILED_INSPECT = 'RuntimeError naming the command and docker\'s message; 0.12.1: AttributeError'


def compare(old, ours, deliberate=DELIBERATE):
    assert_same(old, ours, deliberate)


def both(old_ocs, args, env=None, cwd=None):
    env = {**os.environ, **(env or {})}
    return (run_cases(old_ocs.python, SNIPPET, json.dumps(args), env=old_ocs.env(env), cwd=cwd),
            run_cases(sys.executable, SNIPPET, json.dumps(args), env=env, cwd=cwd))


needs_docker_cli = pytest.mark.skipif(shutil.which('docker') is None,
                                      reason='no docker command line installed')


def test_pure_helpers_behave_as_ocs012(old_ocs, tmp_path):
    old, ours = both(old_ocs, {'pure': True, 'runs': [], 'inspects': []})
    compare(old, ours)
    assert old['consts'] == ['ok', ['list', 11, 5, 15, '[docker]', ['list', 'up', 'down']]]
    assert old['clsname_2'] == ['ok', ['tuple', 'FakeDataAgent', '[d]']]
    assert old['clsname_14'] == ['ok', 'Fake[e]']
    assert old['decode_0'] == ['ok', ['tuple', 'out', 'err', 0]]
    assert old['deyaml_0'][1][1] == {'a': 1, 'b': ['list', 1, 2]}
    assert old['modules'][1][2] == 'ocs.agents.host_manager.drivers'


@needs_docker_cli
def test_docker_commands_without_an_engine(old_ocs, tmp_path):
    """The real docker CLI, pointed at a socket where nothing listens."""
    env = {'DOCKER_HOST': f'unix://{tmp_path}/no-engine.sock',
           'DOCKER_CONFIG': str(tmp_path / 'cfg')}
    runs = [[[['--version']], {}], [[['--version']], {'decode': True}],
            [[['inspect', 'ocs-no-such-container']], {}],
            [[['inspect', 'ocs-no-such-container']], {'decode': True}],
            [[['inspect', 'ocs-no-such-container']], {'deyaml': True}],
            [[['inspect', 'ocs-no-such-container']], {'decode': True, 'deyaml': True}],
            [[['--version'], True], {}], [[('--version',)], {}]]
    old, ours = both(old_ocs, {'pure': False, 'runs': runs,
                               'inspects': [['ocs-no-such-container', '/nonexistent.yaml']]},
                     env=env, cwd=str(tmp_path))
    compare(old, ours, {'inspect_0': FAILED_INSPECT})
    assert old['run_0_returns'] == 'Deferred'
    assert old['run_1'][1][1].startswith('Docker version')
    assert old['run_4'][1][1] == ['list'] and old['run_4'][1][3] != 0
    assert ours['inspect_0'][1] == 'RuntimeError'


@pytest.mark.integration
@pytest.mark.docker
@needs_docker_cli
def test_inspect_container_on_the_test_engine(old_ocs, docker_engine, tmp_path):
    img = 'ocs-test/busybox:1'
    image_id = docker_engine.import_busybox([img])[img]
    proj = tmp_path / 'hmdiffinspect'
    proj.mkdir()
    (proj / 'compose.yaml').write_text(yaml.safe_dump(
        {'name': 'hmdiffinspect', 'services': {
            'ocs-up': {'image': img, 'network_mode': 'none'},
            'ocs-gone': {'image': img, 'network_mode': 'none', 'command': ['true']}}}))
    other = tmp_path / 'other.yaml'
    other.write_text('services: {}\n')
    try:
        r = docker_engine.compose('up', '-d', project_dir=str(proj), check=True)
        ids = {}
        for svc in ('ocs-up', 'ocs-gone'):
            r = docker_engine.compose('ps', '-a', '-q', svc, project_dir=str(proj), check=True)
            ids[svc] = r.stdout.split()[0]
        compose_file = str(proj / 'compose.yaml')
        inspects = [[ids['ocs-up'], compose_file], [ids['ocs-gone'], compose_file],
                    [ids['ocs-up'], 'compose.yaml'], [ids['ocs-up'], str(other)],
                    ['ocs-no-such-container', compose_file]]
        old, ours = both(old_ocs, {'pure': False, 'runs': [], 'inspects': inspects},
                         env=docker_engine.env, cwd=str(proj))
        compare(old, ours, {'inspect_4': FAILED_INSPECT})
        assert old['inspect_0'] == ['ok', {'container_found': True, 'exit_code': 0,
                                           'running': True, 'running_image': image_id,
                                           'service': 'ocs-up'}]
        assert old['inspect_3'][1] == 'RuntimeError'
    finally:
        docker_engine.compose('down', '-t', '1', project_dir=str(proj))
