"""Our Access Director with peers from the released ocs 0.12.1: a 0.12
agent under ``--access-policy director:<id>`` and a 0.12
ExclusiveAccessClient. (0.12 agents know only the md5/none hashes.)"""
import json
import time

import pytest

from accessdirector_helpers import start_director, start_op, wait_for

pytestmark = pytest.mark.integration

CONFIG = """\
distrib_hashfunc: md5
passwords:
  - default: true
    password_1: ''
    password_2: pw-two
exclusive_access_blocks:
  - name: all-fakers
    password: grant-pw
    grants:
      - agent_class: FakeDataAgent
        cred_level: 2
        lockout_levels: [1, 2]
"""

OLD_CLIENT = r'''
import json, sys
from ocs.ocs_client import OCSClient
from ocs.access import ExclusiveAccessClient
site, director = sys.argv[1], sys.argv[2]
client = OCSClient(director, args=['--site-file', site,
                                   '--site-host', 'localhost'])
excl = ExclusiveAccessClient(client, 'old-client', 'all-fakers',
                             password='grant-pw')
out = {'acquire': excl.acquire(), 'password': excl.password}
print(json.dumps(out))
'''


def test_ocs012_agent_and_client_with_our_director(ocs_router, run_agent,
                                                   old_ocs, tmp_path):
    cfg = tmp_path / 'access.yaml'
    cfg.write_text(CONFIG)
    start_director(run_agent, 'ad-old', str(cfg))
    old = run_agent('oldfake', 'FakeDataAgent', venv=old_ocs.venv,
                    args=['--access-policy', 'director:ad-old'])
    # The 0.12 agent got our rules: level 1 is free (set_heartbeat needs
    # 1), level 2 (delay_task) needs the md5-hashed password.
    wait_for(lambda: start_op(ocs_router, old, 'set_heartbeat')[0] == 0,
             what='the 0.12 agent to accept level-1 calls')
    assert start_op(ocs_router, old, 'delay_task')[0] == -1
    assert start_op(ocs_router, old, 'delay_task', 'pw-twoo')[0] == -1
    assert start_op(ocs_router, old, 'delay_task', 'pw-two',
                    params={'delay': 0.01})[0] == 0

    site = ocs_router.write_site({'ad-old': 'AccessDirector'})
    res = old_ocs.run_script(OLD_CLIENT, args=[site, 'ad-old'])
    out = json.loads(res.stdout.strip().splitlines()[-1])
    ok, detail = out['acquire']
    assert ok, detail
    assert detail['message'] == 'grant acquired'
    grant_pw = out['password']
    assert grant_pw and detail['expire_at'] > time.time()

    # The 0.12 agent applies the md5 grant rules: others locked out of
    # level 1, the holder gets in.
    wait_for(lambda: start_op(ocs_router, old, 'set_heartbeat')[0] == -1,
             what='the lockout on the 0.12 agent')
    assert start_op(ocs_router, old, 'set_heartbeat', 'pw-two')[0] == -1
    assert start_op(ocs_router, old, 'set_heartbeat', grant_pw)[0] == 0
    # 0.12 agents take ~6 s to stop on SIGINT; nothing to check there.
    old.kill()
