"""Site config (and compose services) -> the HostManager's table of children."""
import pytest
import yaml

from ocs.agents.host_manager.instances import (build_instance_table,
                                               drop_finished_retirees,
                                               match_requests,
                                               merge_instance_table)
from ocs.config.model import SiteConfig

SITE = """
hub: {wamp_server: 'ws://127.0.0.1:8001/ws', wamp_realm: test_realm,
      address_root: observatory}
hosts:
  host-1:
    agent-instances:
%s
"""

KNOWN = {'FakeDataAgent': 'ocs-agent-fakedata', 'BarebonesAgent': 'ocs-agent-barebones',
         'HostManager': 'ocs-agent-hostmanager'}


def host_instances(lines):
    text = SITE % '\n'.join('      ' + ln for ln in lines)
    return SiteConfig.from_dict(yaml.safe_load(text)).hosts['host-1'].instances


def one(manage, compose=None):
    """Table entry for one FakeDataAgent 'x1' with the given manage text."""
    line = "- {instance-id: x1, agent-class: FakeDataAgent%s}" % (
        '' if manage is None else f", manage: {manage}")
    table, problems = build_instance_table(host_instances([line]), compose or {},
                                           known_agents=KNOWN)
    return table, problems


@pytest.mark.parametrize('manage, mode, target', [
    (None, 'host', 'up'),
    ('host/up', 'host', 'up'), ('host/down', 'host', 'down'),
    ('docker/up', 'docker', 'up'), ('docker/down', 'docker', 'down'),
    # old spellings ("yes" and "docker" now mean up); YAML makes a bare yes a bool
    ('yes', 'host', 'up'), ("'yes'", 'host', 'up'), ('docker', 'docker', 'up'),
    # abbreviations
    ('host', 'host', 'up'), ('up', 'host', 'up'), ('down', 'host', 'down'),
])
def test_every_manage_spelling(manage, mode, target):
    compose = {'ocs-x1': {'service': 'ocs-x1', 'compose_file': '/c/docker-compose.yml'}}
    table, problems = one(manage, compose if mode == 'docker' else {})
    assert len(table) == 1, table
    inst = next(iter(table.values()))
    assert inst.management == mode and inst.target_state == target
    assert inst.instance_id == 'x1' and inst.operable and problems == []
    if mode == 'host':
        assert inst.agent_class == 'FakeDataAgent' and inst.agent_script == '__plugin__'
        assert inst.full_name == 'FakeDataAgent:x1'
    else:
        assert inst.agent_class == 'FakeDataAgent[d]' and inst.agent_script == 'ocs-x1'
        assert inst.compose_file == '/c/docker-compose.yml'


@pytest.mark.parametrize('manage', ['ignore', 'no', "'no'", 'false'])
def test_ignored_spellings_are_not_tracked(manage):
    table, problems = one(manage)
    assert table == {} and problems == []


def test_hostmanager_itself_is_not_managed():
    table, _ = build_instance_table(host_instances(
        ["- {instance-id: hm, agent-class: HostManager}"]), known_agents=KNOWN)
    assert table == {}


def test_missing_agent_class_names_class_and_installed_plugins():
    table, problems = build_instance_table(host_instances(
        ["- {instance-id: g1, agent-class: GhostAgent}"]), known_agents=KNOWN)
    inst = table['GhostAgent:g1']
    assert not inst.operable and inst.target_state == 'up'
    assert len(problems) == 1
    msg = problems[0]
    assert "'GhostAgent'" in msg and "'g1'" in msg
    assert 'FakeDataAgent (ocs-agent-fakedata)' in msg
    assert 'BarebonesAgent (ocs-agent-barebones)' in msg


def test_docker_instance_without_service_is_flagged():
    compose = {'ocs-other': {'service': 'ocs-other', 'compose_file': '/c/dc.yml'}}
    table, problems = one('docker/up', compose)
    inst = table['FakeDataAgent[d?]:x1']
    assert not inst.operable and inst.agent_script is None
    assert "'ocs-x1'" in problems[0] and '/c/dc.yml' in problems[0]
    # the unclaimed service is tracked passively
    svc = table['[docker]:ocs-other']
    assert svc.passive_tracking and svc.target_state == 'passive'
    assert svc.operable and svc.agent_script == 'ocs-other'


def test_service_prefix_is_used():
    compose = {'svc-x1': {'service': 'svc-x1', 'compose_file': '/c/dc.yml'}}
    table, _ = build_instance_table(host_instances(
        ["- {instance-id: x1, agent-class: FakeDataAgent, manage: docker/up}"]),
        compose, prefix='svc-', known_agents=KNOWN)
    assert list(table) == ['FakeDataAgent[d]:x1']


class Running:
    is_running = True
    busy = False
    exit_code = None


def test_merge_keeps_run_state_and_user_targets():
    old, _ = build_instance_table(host_instances([
        "- {instance-id: a, agent-class: FakeDataAgent}",
        "- {instance-id: b, agent-class: FakeDataAgent, manage: down}",
        "- {instance-id: c, agent-class: FakeDataAgent}",
        "- {instance-id: d, agent-class: FakeDataAgent}"]), known_agents=KNOWN)
    a = old['FakeDataAgent:a']
    a.prot, a.next_action, a.fail_times = Running(), 'up', [1.0]
    a.target_state = 'down'            # a user request
    old['FakeDataAgent:c'].prot = Running()
    new, _ = build_instance_table(host_instances([
        "- {instance-id: a, agent-class: FakeDataAgent}",
        "- {instance-id: b, agent-class: FakeDataAgent, manage: up}",
        "- {instance-id: e, agent-class: BarebonesAgent}"]), known_agents=KNOWN)
    report = merge_instance_table(old, new)
    assert report == {'added': ['BarebonesAgent:e'], 'retired': ['FakeDataAgent:c'],
                      'removed': ['FakeDataAgent:d'], 'changed': ['FakeDataAgent:b']}
    assert old['FakeDataAgent:a'] is a and a.target_state == 'down'
    assert a.fail_times == [1.0] and isinstance(a.prot, Running)
    assert old['FakeDataAgent:b'].target_state == 'up'
    c = old['FakeDataAgent:c']
    assert c.retired and c.target_state == 'down'
    assert drop_finished_retirees(old) == []
    c.prot = None
    assert drop_finished_retirees(old) == ['FakeDataAgent:c']


def test_requests_in_order_with_all():
    table, _ = build_instance_table(host_instances([
        "- {instance-id: a, agent-class: FakeDataAgent}",
        "- {instance-id: data1, agent-class: FakeDataAgent}"]), known_agents=KNOWN)
    out = match_requests(table, [('all', 'up'), ['data1', 'down']])
    assert [(sorted(i.instance_id for i in t), s) for t, s in out] == [
        (['a', 'data1'], 'up'), (['data1'], 'down')]


@pytest.mark.parametrize('requests, match', [
    ([('nope', 'up')], "unknown instance_id 'nope'; tracked instances: a"),
    ([('a', 'sideways')], "'up' or 'down'"),
    ([('a',)], 'expected a pair'),
    ('a', 'must be a list'),
])
def test_bad_requests_are_refused_naming_the_entry(requests, match):
    table, _ = build_instance_table(host_instances(
        ["- {instance-id: a, agent-class: FakeDataAgent}"]), known_agents=KNOWN)
    with pytest.raises(ValueError, match=match.replace('(', r'\(').replace(')', r'\)')):
        match_requests(table, requests)
