"""The Access Director with a real router and real agent processes."""
import time

import pytest

from ocs.access import ExclusiveAccessClient
from ocs.ocs_client import OCSClient

from accessdirector_helpers import (access_info, start_director, start_gated,
                                    start_op, wait_for, wait_rules)

pytestmark = pytest.mark.integration

CONFIG = """\
distrib_hashfunc: sha256
passwords:
  - default: true
    password_1: ''
    password_2: pw-two
    password_3: pw-three
exclusive_access_blocks:
  - name: gated
    password: grant-pw
    hash: sha256
    grants:
      - agent_class: GatedAgent
        cred_level: 3
        lockout_levels: [2, 3]
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'access.yaml'
    path.write_text(CONFIG)
    path.chmod(0o600)
    return str(path)


def test_passwords_levels(ocs_router, run_agent, config_file):
    director = start_director(run_agent, 'ad-a', config_file)
    gated = start_gated(run_agent, 'gated-a', 'ad-a')
    info = wait_rules(gated)
    assert info['policy'] == 'director:ad-a' or info['policy'] == 'director'
    assert info['version'] == 1 and isinstance(info['step'], int)

    ok, err = 0, -1
    # No password: level 1 only.
    assert start_op(ocs_router, gated, 'basic')[0] == ok
    status, msg = start_op(ocs_router, gated, 'advanced')
    assert status == err and '2 (ADVANCED)' in msg and '1 (BASIC)' in msg
    # Wrong password: still level 1 (password_1 is free).
    assert start_op(ocs_router, gated, 'advanced', 'pw-twoo')[0] == err
    # Right passwords.
    assert start_op(ocs_router, gated, 'advanced', 'pw-two')[0] == ok
    status, msg = start_op(ocs_router, gated, 'full', 'pw-two')
    assert status == err and '3 (FULL)' in msg
    assert start_op(ocs_router, gated, 'full', 'pw-three')[0] == ok

    # The director re-broadcasts; the manager's session shows no grants.
    api = director.get_api()
    procs = {name: sess for name, sess, _ in api['processes']}
    assert procs['manager']['status'] == 'running'
    assert procs['manager']['data']['grants'] == []
    assert procs['manager']['data']['config_error'] is None


def test_exclusive_grant_locks_out_and_expires(ocs_router, run_agent,
                                               config_file, tmp_path,
                                               monkeypatch):
    start_director(run_agent, 'ad-b', config_file)
    gated = start_gated(run_agent, 'gated-b', 'ad-b')
    wait_rules(gated)
    site = ocs_router.write_site({'ad-b': 'AccessDirector'})
    client = OCSClient('ad-b', args=['--site-file', site,
                                     '--site-host', 'localhost'])

    bad = ExclusiveAccessClient(client, 'intruder', 'gated',
                                password='not-it')
    ok, detail = bad.acquire()
    assert not ok and 'Incorrect password' in detail['error']

    excl = ExclusiveAccessClient(client, 'pytest-holder', 'gated',
                                 password='grant-pw')
    before = access_info(gated)['update_count']
    t0 = time.time()
    ok, detail = excl.acquire(expire_at=t0 + 3.)
    assert ok, detail
    assert detail['message'] == 'grant acquired'
    assert t0 < detail['expire_at'] <= t0 + 3.
    assert excl.password
    wait_rules(gated, before)

    # Others are locked out of levels 2 and 3; the message names the holder.
    status, msg = start_op(ocs_router, gated, 'full', 'pw-three')
    assert status == -1
    assert "'gated'" in msg and 'pytest-holder' in msg
    assert start_op(ocs_router, gated, 'advanced', 'pw-two')[0] == -1
    assert start_op(ocs_router, gated, 'basic')[0] == 0
    # The holder has level 3.
    assert start_op(ocs_router, gated, 'full', excl.password)[0] == 0

    # A strict acquire by someone else is refused while it is held.
    other = ExclusiveAccessClient(client, 'other', 'gated',
                                  password='grant-pw', strict=True)
    ok, detail = other.acquire()
    assert not ok and 'already active' in detail['error']

    # It expires on time, without anyone asking.
    wait_for(lambda: start_op(ocs_router, gated, 'full', 'pw-three')[0] == 0,
             timeout=6., what='the lockout to end')
    assert time.time() >= t0 + 3. - 0.5
    assert start_op(ocs_router, gated, 'full', excl.password)[0] == -1

    # Acquire again and release: the lockout ends at once.
    ok, detail = excl.acquire()
    assert ok
    wait_for(lambda: start_op(ocs_router, gated, 'full', 'pw-three')[0] == -1,
             what='the new lockout')
    ok, detail = excl.release()
    assert ok and detail['message'] == 'grant released'
    wait_for(lambda: start_op(ocs_router, gated, 'full', 'pw-three')[0] == 0,
             what='release to take effect')

    # Given just the director's instance_id, the client builds an OCSClient
    # from the default site config ($OCS_CONFIG_DIR/default.yaml).
    cfg_dir = tmp_path / 'site'
    cfg_dir.mkdir()
    ocs_router.write_site({'ad-b': 'AccessDirector'},
                          path=cfg_dir / 'default.yaml')
    monkeypatch.setenv('OCS_CONFIG_DIR', str(cfg_dir))
    by_id = ExclusiveAccessClient('ad-b', 'by-id', 'gated',
                                  password='grant-pw', strict=True)
    ok, detail = by_id.acquire()
    assert ok, detail
    assert by_id.release()[0]


def test_director_restart_agents_keep_rules(ocs_router, run_agent,
                                            config_file):
    director = start_director(run_agent, 'ad-c', config_file)
    gated = start_gated(run_agent, 'gated-c', 'ad-c')
    info = wait_rules(gated)
    director.stop()
    assert not director.is_running()
    # Rules stay in force without the director.
    time.sleep(0.5)
    assert start_op(ocs_router, gated, 'advanced', 'pw-two')[0] == 0
    assert start_op(ocs_router, gated, 'advanced')[0] == -1
    # A new director: the agent takes its rules (its steps keep growing).
    start_director(run_agent, 'ad-c', config_file)
    new = wait_rules(gated, info['update_count'])
    assert new['step'] > info['step']
    assert start_op(ocs_router, gated, 'full', 'pw-three')[0] == 0


def test_agent_started_before_director(ocs_router, run_agent, config_file):
    gated = start_gated(run_agent, 'gated-d', 'ad-d')
    # Until a director speaks, everything is blocked.
    assert access_info(gated)['update_count'] == 0
    status, msg = start_op(ocs_router, gated, 'basic')
    assert status == -1 and '0 (BLOCKED)' in msg
    start_director(run_agent, 'ad-d', config_file)
    wait_rules(gated)
    assert start_op(ocs_router, gated, 'basic')[0] == 0
    assert start_op(ocs_router, gated, 'full', 'pw-three')[0] == 0


def test_bad_config_is_reported_and_reload_fixes_it(ocs_router, run_agent,
                                                    tmp_path):
    path = tmp_path / 'access.yaml'
    path.write_text('passwords:\n  - default: true\n    pasword_2: x\n')
    director = start_director(run_agent, 'ad-e', str(path))
    procs = {n: s for n, s, _ in director.get_api()['processes']}
    err = procs['manager']['data']['config_error']
    assert str(path) in err and "passwords[0]" in err and 'pasword_2' in err
    path.write_text(CONFIG)
    reply = ocs_router.call(f'{director.address}.ops', 'start',
                            'reload_config')
    assert reply['args'][0][0] == 0
    reply = ocs_router.call(f'{director.address}.ops', 'wait',
                            'reload_config', timeout=5)
    status, msg, session = reply['args'][0]
    assert session['success'] is True, session
    procs = {n: s for n, s, _ in director.get_api()['processes']}
    assert procs['manager']['data']['config_error'] is None
