"""Compose files, ``docker compose ps`` output and inspect data -> service states.

Pure parsing; the same functions run against a real engine in
test_docker_engine.py.
"""
import json

import pytest

from ocs.agents.host_manager import docker_state as ds
from ocs.agents.host_manager.instances import build_instance_table

COMPOSE = """\
services:
  ocs-faker3:
    image: ocs-test/busybox:1
    command: sleep 1000
  ocs-other:
    image: ocs-test/busybox:2
"""


def test_compose_services_and_tags():
    services = ds.parse_compose_text(COMPOSE, '/srv/dc.yml')
    assert services == {
        'ocs-faker3': {'service': 'ocs-faker3', 'compose_file': '/srv/dc.yml',
                       'image_tag': 'ocs-test/busybox:1'},
        'ocs-other': {'service': 'ocs-other', 'compose_file': '/srv/dc.yml',
                      'image_tag': 'ocs-test/busybox:2'}}


def test_compose_syntax_error_names_file_and_line():
    bad = COMPOSE.replace('    command: sleep 1000', '    command: [sleep, 1000')
    with pytest.raises(ds.ComposeFileError) as e:
        ds.parse_compose_text(bad, '/srv/dc.yml')
    assert e.value.filename == '/srv/dc.yml'
    assert e.value.line in (4, 5)
    assert str(e.value).startswith(f'docker compose file /srv/dc.yml, line {e.value.line}:')


@pytest.mark.parametrize('text, match', [
    ('', 'empty'), ('- a\n- b\n', 'mapping'), ('version: "3"\n', "no 'services'"),
    ('services: [a, b]\n', 'must be a mapping'), ('services:\n  a: 3\n', "service 'a'"),
])
def test_compose_structure_errors(text, match):
    with pytest.raises(ds.ComposeFileError, match=match):
        ds.parse_compose_text(text, '/srv/dc.yml')


def test_missing_compose_file(tmp_path):
    with pytest.raises(ds.ComposeFileError, match='file not found'):
        ds.read_compose_file(str(tmp_path / 'nope.yml'))


def test_compose_ps_json_lines_array_and_ids():
    rows = [{'ID': 'a2307103ca38', 'Service': 'ocs-faker3', 'State': 'running',
             'ExitCode': 0, 'Image': 'ocs-test/busybox:1', 'Name': 'p-ocs-faker3-1'},
            {'ID': 'b1', 'Service': 'ocs-other', 'State': 'exited', 'ExitCode': 137,
             'Image': 'ocs-test/busybox:2'}]
    lines = '\n'.join(json.dumps(r) for r in rows) + '\n'
    expect = [{'container_id': 'a2307103ca38', 'service': 'ocs-faker3', 'state': 'running',
               'exit_code': 0, 'image': 'ocs-test/busybox:1'},
              {'container_id': 'b1', 'service': 'ocs-other', 'state': 'exited',
               'exit_code': 137, 'image': 'ocs-test/busybox:2'}]
    assert ds.parse_compose_ps(lines) == expect
    assert ds.parse_compose_ps(json.dumps(rows).encode()) == expect
    ids = ds.parse_compose_ps('a2307103ca38ec11\n\nb1ff\n')
    assert [r['container_id'] for r in ids] == ['a2307103ca38ec11', 'b1ff']
    assert ds.parse_compose_ps('  \n') == []
    with pytest.raises(ValueError, match='unexpected line'):
        ds.parse_compose_ps('Name   Command   State\n')


def inspect(cid, service, running, image, workdir='/srv', files='dc.yml',
            exit_code=0, created='2026-01-01T00:00:00Z', tag='ocs-test/busybox:1'):
    return {'Id': cid, 'Name': f'/p_{service}_1', 'Image': image, 'Created': created,
            'State': {'Running': running, 'ExitCode': exit_code},
            'Config': {'Image': tag, 'Labels': {
                ds.LABEL_PROJECT: 'p', ds.LABEL_SERVICE: service,
                ds.LABEL_CONFIG_FILES: files, ds.LABEL_WORKING_DIR: workdir,
                ds.LABEL_ONEOFF: 'False'}}}


def test_summary_resolves_v1_relative_and_v2_absolute_config_files():
    v1 = ds.summarize_container(inspect('c1', 'ocs-faker3', True, 'sha256:1'))
    v2 = ds.summarize_container(inspect('c2', 'ocs-faker3', True, 'sha256:1',
                                        workdir='/elsewhere', files='/srv/dc.yml,/srv/o.yml'))
    assert v1['config_files'] == ['/srv/dc.yml']
    assert v2['config_files'] == ['/srv/dc.yml', '/srv/o.yml']
    assert ds.belongs_to(v1, '/srv/dc.yml') and ds.belongs_to(v2, '/srv/./dc.yml')
    assert not ds.belongs_to(v1, '/srv/other.yml')
    assert v1['running'] is True and v1['running_image'] == 'sha256:1'
    assert v1['name'] == 'p_ocs-faker3_1' and v1['service'] == 'ocs-faker3'


def test_service_states_orphans_restart_and_new_tags():
    services = ds.parse_compose_text(COMPOSE, '/srv/dc.yml')
    containers = [ds.summarize_container(c) for c in [
        # an old stopped container and the running one for ocs-faker3
        inspect('old', 'ocs-faker3', False, 'sha256:0', exit_code=137,
                created='2025-01-01T00:00:00Z'),
        inspect('c1', 'ocs-faker3', True, 'sha256:0'),
        # a container whose service left the file: an orphan
        inspect('c9', 'ocs-gone', True, 'sha256:0'),
        # another project's container
        inspect('x1', 'ocs-faker3', True, 'sha256:0', workdir='/other'),
    ]]
    ids = {'ocs-test/busybox:1': 'sha256:1', 'ocs-test/busybox:2': ds.UNKNOWN_IMAGE}
    states, orphans = ds.service_states('/srv/dc.yml', services, containers, ids)
    f3 = states['ocs-faker3']
    assert f3['container_id'] == 'c1' and f3['running'] and f3['container_found']
    assert f3['image_id'] == 'sha256:1' and f3['running_image'] == 'sha256:0'
    assert f3['restart_required'] is True      # the tag now names another image
    other = states['ocs-other']
    assert other == {'compose_file': '/srv/dc.yml', 'service': 'ocs-other',
                     'image_tag': 'ocs-test/busybox:2', 'image_id': 'unknown',
                     'container_found': False, 'running': False, 'exit_code': 127,
                     'container_id': None, 'running_image': None,
                     'restart_required': False}
    assert orphans == {'c9': {'compose_file': '/srv/dc.yml', 'service': 'ocs-gone',
                              'container_id': 'c9', 'running': True, 'exit_code': 0,
                              'container_found': True, 'running_image': 'sha256:0'}}
    table, _ = build_instance_table(
        [{'instance-id': 'other', 'agent-class': 'FakeDataAgent', 'manage': 'docker/up'}],
        services)
    assert ds.new_tags(table, states) == {'other': 'ocs-test/busybox:2'}
