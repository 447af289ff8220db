"""Interoperation with the released OCS 0.12 ``ocs.access`` (a real peer,
run as a separate interpreter from /work/main/.venv-ocs012): rules we send
must be understood by 0.12 agents, and rules a 0.12 director sends must be
understood by us."""
import json
import os
import subprocess

import pytest

from ocs.access import (AccessRule, AgentAccessRules, AgentSpec,
                        agent_get_creds, director_get_access_rules,
                        director_parse_config)

OLD = os.environ.get('OCS_OLD_VENV', os.path.join(
    os.path.dirname(__file__), '..', '..', '..', '.venv-ocs012'))
OLD_PY = os.path.join(OLD, 'bin', 'python')

pytestmark = pytest.mark.skipif(not os.path.exists(OLD_PY),
                                reason='ocs 0.12 venv not installed')

PEER = r'''
import json, sys, dataclasses
from ocs import access as a
req = json.load(sys.stdin)
out = {}
if req['op'] == 'creds':
    rules = [a.AccessRule(**r) for r in req['rules']]
    ar = a.AgentAccessRules(policy='director', rules=rules)
    ag = a.AgentSpec(instance_id=req['instance_id'],
                     agent_class=req['agent_class'])
    out['levels'] = [int(a.agent_get_creds(pw, ar, ag)[0])
                     for pw in req['passwords']]
elif req['op'] == 'grant':
    g = a.DistributedAccessGrant(name='g', grants=[a.GrantConfigItem(
        cred_level=a.CredLevel(2), agent_class='FakeDataAgent',
        lockout_levels=[2, 3])])
    pw, rules = a.director_get_access_rules(g, 'old-client')
    out = {'password': pw, 'rules': [json.loads(json.dumps(
        dataclasses.asdict(r))) for r in rules]}
json.dump(out, sys.stdout)
'''


def peer(req):
    p = subprocess.run([OLD_PY, '-c', PEER], input=json.dumps(req),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_ocs012_agent_understands_our_rules():
    cfg = director_parse_config({
        'distrib_hashfunc': 'md5',
        'passwords': [{'default': True, 'password_2': 'p2',
                       'password_3': 'p3'}],
        'exclusive_access_blocks': [{'name': 'fake-subsystem', 'grants': [
            {'agent_class': 'FakeDataAgent', 'cred_level': 2,
             'lockout_levels': [2, 3]},
            {'default': True, 'cred_level': 1, 'lockout_levels': [3]}]}]})
    gpw, grules = director_get_access_rules(
        cfg['_grant_blocks']['fake-subsystem'], 'me')
    rules = cfg['_rules'] + grules
    wire = json.loads(json.dumps([r.to_dict() for r in rules]))
    passwords = [None, '', 'p2', 'p3', gpw, 'wrong']
    for inst, cls in [('faker1', 'FakeDataAgent'), ('reg', 'RegistryAgent')]:
        old = peer({'op': 'creds', 'rules': wire, 'instance_id': inst,
                    'agent_class': cls, 'passwords': passwords})['levels']
        ours = [int(agent_get_creds(pw, AgentAccessRules(rules=rules),
                                    AgentSpec(inst, cls)))
                for pw in passwords]
        assert old == ours, (inst, old, ours)
    # Sanity: the comparison covers distinct outcomes.
    assert len(set(ours)) >= 2


def test_we_understand_ocs012_director_rules():
    out = peer({'op': 'grant'})
    rules = [AccessRule.from_dict(r) for r in out['rules']]
    ar = AgentAccessRules(rules=rules)
    faker = AgentSpec('faker1', 'FakeDataAgent')
    assert int(agent_get_creds(out['password'], ar, faker)) == 2
    assert int(agent_get_creds('nope', ar, faker)) == 0
    assert rules[0].lockout_owner == 'old-client'
