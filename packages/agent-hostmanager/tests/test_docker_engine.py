"""The docker-mode HostManager against a real Docker engine.

A private dockerd (``docker_engine`` fixture, ocs.testing.
docker_engine) runs busybox images imported from Debian's busybox-static;
the HostManager (a real agent process on the real router) drives its compose
services through the compose CLI and watches them through the Docker SDK.
Skipped, with the reason, where dockerd cannot start.
"""
import os
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from hmtest_helpers import wait_for  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.docker]

IMG1 = 'ocs-test/busybox:1'
IMG2 = 'ocs-test/busybox:2'
IMG3 = 'ocs-test/busybox:3'      # made by `docker tag` during a test


@pytest.fixture(scope='session')
def busybox_images(docker_engine):
    """tag -> image ID of the two test images."""
    return docker_engine.import_busybox([IMG1, IMG2])


class Project:
    """A compose project in its own folder, written from a dict."""

    def __init__(self, engine, path, name):
        self.engine = engine
        self.dir = path
        self.name = name
        self.file = str(path / 'docker-compose.yaml')
        self.services = {}

    def write(self, services):
        """Replace the compose file at once (the manager never reads half
        a file)."""
        self.services = services
        self.write_text(yaml.safe_dump({'name': self.name, 'services': services}))

    def write_text(self, text):
        with open(self.file + '.new', 'w') as f:
            f.write(text)
        os.replace(self.file + '.new', self.file)

    def containers(self, service=None, all=True):
        """Low-level SDK dicts of this project's containers."""
        labels = [f'com.docker.compose.project={self.name}']
        if service:
            labels.append(f'com.docker.compose.service={service}')
        api = self.engine.client().api
        return api.containers(all=all, filters={'label': labels})

    def running(self, service):
        """The ID of the service's running container, or None."""
        found = [c['Id'] for c in self.containers(service, all=False)]
        assert len(found) <= 1, found
        return found[0] if found else None

    def inspect(self, cid):
        return self.engine.client().api.inspect_container(cid)

    def remove_all(self):
        for c in self.containers():
            self.engine.run('rm', '-f', c['Id'], timeout=60)


@pytest.fixture
def project(docker_engine, busybox_images, tmp_path, request):
    name = 'hm' + request.node.name.replace('test_', '').replace('_', '')[:20].lower()
    proj = Project(docker_engine, tmp_path / name, name)
    proj.dir.mkdir()
    yield proj
    proj.remove_all()


def svc(image=IMG1, network='none'):
    return {'image': image, 'network_mode': network}


def start_hm(ocs_router, run_agent, hm_driver, docker_engine, tmp_path, project,
             instances, hm_id):
    site = ocs_router.write_site(
        [{'instance-id': hm_id, 'agent-class': 'HostManager',
          'arguments': [['--docker-compose', project.file]]}] + instances,
        path=str(tmp_path / 'site.yaml'))
    proc = run_agent(hm_id, site_file=site, env=docker_engine.env, ready_timeout=30)
    return proc, hm_driver(hm_id)


def test_engine_helper_runs_and_stops_containers(docker_engine, busybox_images):
    """The engine itself: images are distinct, containers run on the none
    and host networks and stop promptly."""
    assert len(set(busybox_images.values())) == 2
    assert docker_engine.ping()
    ids = []
    for net in ('none', 'host'):
        r = docker_engine.run('run', '-d', '--network', net, IMG1, timeout=60)
        assert r.returncode == 0, r.stderr
        ids.append(r.stdout.strip())
    r = docker_engine.run('exec', ids[1], 'busybox', 'echo', 'hello')
    assert r.stdout.strip() == 'hello', r.stderr
    t0 = time.monotonic()
    r = docker_engine.run('stop', *ids, timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 8          # SIGTERM is handled, no 10 s wait
    codes = docker_engine.run('inspect', '-f', '{{.State.ExitCode}}', *ids).stdout.split()
    assert codes == ['0', '0']
    docker_engine.run('rm', *ids)


def test_docker_services_lifecycle(ocs_router, run_agent, hm_driver, docker_engine,
                                   busybox_images, project, tmp_path):
    project.write({'ocs-dk1': svc(), 'ocs-dk2': svc(network='host'),
                   'ocs-extra': svc()})
    proc, hm = start_hm(ocs_router, run_agent, hm_driver, docker_engine, tmp_path,
                        project, [
                            {'instance-id': 'dk1', 'agent-class': 'FakeDataAgent',
                             'manage': 'docker/up'},
                            {'instance-id': 'dk2', 'agent-class': 'BarebonesAgent',
                             'manage': 'docker/down'},
                        ], 'hm-dk')

    # manage docker/up starts its service; docker/down does not; a service
    # not in the site config is tracked passively.
    hm.wait_states({'dk1': 'up', 'dk2': 'down', 'ocs-extra': 'down'}, timeout=40)
    kids = hm.children()
    assert kids['dk1']['agent_class'] == 'FakeDataAgent[d]'
    assert kids['dk1']['management'] == 'docker'
    assert kids['ocs-extra']['agent_class'] == '[docker]'
    assert kids['ocs-extra']['target_state'] == 'passive'
    wait_for(lambda: project.running('ocs-dk1'), what='ocs-dk1 container running')
    assert project.running('ocs-dk2') is None
    data = hm.data()
    ok, _, msg = data['config_parse_status'][project.file]
    assert ok and 'ocs-dk1' in msg
    assert data['orphans'] == {} and data['new_tags'] == {}

    # update: dk2 up, dk1 down.
    res = hm.run_task('update', requests=[['dk2', 'up'], ['dk1', 'down']])
    assert res['success'], res['messages']
    hm.wait_states({'dk1': 'down', 'dk2': 'up'}, timeout=40)
    dk2 = wait_for(lambda: project.running('ocs-dk2'), what='ocs-dk2 running')
    assert project.inspect(dk2)['HostConfig']['NetworkMode'] == 'host'
    wait_for(lambda: not project.containers('ocs-dk1'), what='ocs-dk1 removed')

    # Killed behind the manager's back: reported and relaunched.
    r = docker_engine.run('kill', dk2)
    assert r.returncode == 0, r.stderr
    t0 = time.monotonic()
    wait_for(lambda: any('dk2 exited unexpectedly' in m for m in hm.messages()),
             timeout=20, what='the kill reported')
    assert any('exit code 137' in m for m in hm.messages() if 'dk2 exited' in m)
    wait_for(lambda: project.running('ocs-dk2'), timeout=30, what='ocs-dk2 relaunched')
    assert time.monotonic() - t0 < 25
    hm.wait_states({'dk2': 'up'}, timeout=20)
    assert hm.children()['dk2']['stability'] < 1.0

    # A syntax error in the compose file: reported with file and line, and
    # what runs keeps running.
    good = open(project.file).read()
    project.write_text(good + 'services: [unclosed\n')
    wait_for(lambda: hm.data()['config_parse_status'][project.file][0] is False,
             timeout=20, what='compose parse error reported')
    msg = hm.data()['config_parse_status'][project.file][2]
    assert project.file in msg and 'line' in msg, msg
    assert project.running('ocs-dk2')

    # Image tag changed to one docker does not have: new_tags.
    project.write({'ocs-dk1': svc(), 'ocs-dk2': svc(IMG3, 'host'), 'ocs-extra': svc()})
    wait_for(lambda: hm.data()['new_tags'] == {'dk2': IMG3}, timeout=20,
             what='new_tags')
    assert hm.children()['dk2']['restart_required'] is False
    # The tag arrives (as after a pull): restart required, until restarted.
    running_before = project.inspect(project.running('ocs-dk2'))['Image']
    assert running_before == busybox_images[IMG1]
    assert docker_engine.run('tag', IMG2, IMG3).returncode == 0
    wait_for(lambda: hm.children()['dk2']['restart_required'], timeout=20,
             what='restart_required')
    assert hm.data()['new_tags'] == {}
    assert hm.children()['dk2']['next_action'] == 'up'     # not restarted by itself
    res = hm.run_task('update', requests=[['dk2', 'up']])
    assert res['success'], res['messages']
    wait_for(lambda: project.running('ocs-dk2') and project.inspect(
        project.running('ocs-dk2'))['Image'] == busybox_images[IMG2],
        timeout=40, what='ocs-dk2 running the new image')
    wait_for(lambda: not hm.children()['dk2']['restart_required'], timeout=20,
             what='restart_required cleared')

    # Orphans: a running service removed from the compose file.
    r = docker_engine.compose('up', '-d', 'ocs-extra', project_dir=project.dir,
                              files=[os.path.basename(project.file)])
    assert r.returncode == 0, r.stderr
    extra = wait_for(lambda: project.running('ocs-extra'), what='ocs-extra up')
    hm.wait_states({'ocs-extra': 'up'}, timeout=20)       # passive: reflected
    project.write({'ocs-dk1': svc(), 'ocs-dk2': svc(IMG3, 'host')})
    orphans = wait_for(lambda: hm.data()['orphans'], timeout=20, what='orphans')
    assert list(orphans) == [extra]
    assert orphans[extra]['service'] == 'ocs-extra' and orphans[extra]['running']
    assert orphans[extra]['compose_file'] == project.file
    assert 'ocs-extra' not in hm.children()
    res = hm.run_task('remove_orphans', stop_time=5.)
    assert res['success'], res['messages']
    assert not project.containers('ocs-extra')
    wait_for(lambda: hm.data()['orphans'] == {}, timeout=20, what='orphans cleared')
    assert project.running('ocs-dk2')

    # docker_pull: no registry here, so it fails, saying for which file.
    res = hm.run_task('docker_pull', timeout=60)
    assert res['success'] is False
    assert any(project.file in m and 'pull failed' in m for m in
               (x[1] for x in res['messages'])), res['messages']
    assert project.running('ocs-dk2')

    # die(disown_dockers=True): the manager exits, the service keeps running.
    dk2 = project.running('ocs-dk2')
    status, msg, _ = hm.ops('start', 'die', {'disown_dockers': True})
    assert status == 0, msg
    wait_for(lambda: proc.returncode is not None, timeout=30, what='HostManager exit')
    assert proc.returncode == 0
    assert project.running('ocs-dk2') == dk2

    # A new HostManager (dk2 now docker/up) adopts the running service
    # without restarting it, and on stopping brings it down.
    site = str(tmp_path / 'site.yaml')
    with open(site) as f:
        cfg = yaml.safe_load(f)
    for inst in cfg['hosts']['localhost']['agent-instances']:
        inst['manage'] = {'dk1': 'docker/down', 'dk2': 'docker/up'}.get(
            inst['instance-id'], inst.get('manage'))
    with open(site, 'w') as f:
        yaml.safe_dump(cfg, f)
    proc2 = run_agent('hm-dk', site_file=site,
                      env=docker_engine.env, ready_timeout=30)
    hm.wait_states({'dk2': 'up', 'dk1': 'down'}, timeout=40)
    assert project.running('ocs-dk2') == dk2
    t0 = time.monotonic()
    proc2.stop(timeout=30)
    assert time.monotonic() - t0 < 25
    assert project.running('ocs-dk2') is None


def test_backend_and_parse_docker_state(docker_engine, busybox_images, project,
                                        monkeypatch):
    """DockerBackend (compose CLI + SDK) and parse_docker_state in-process,
    on the real engine: running, killed, never-created and orphaned
    services."""
    from ocs.agents.host_manager.docker_backend import DockerBackend, DockerError
    from ocs.agents.host_manager.drivers import parse_docker_state
    for k, v in docker_engine.env.items():
        monkeypatch.setenv(k, v)
    project.write({'ocs-run': svc(), 'ocs-dead': svc(IMG2, 'host'),
                   'ocs-never': svc(), 'ocs-gone': svc(),
                   'ocs-newtag': svc('ocs-test/busybox:nosuch')})
    backend = DockerBackend()
    for s in ('ocs-run', 'ocs-dead', 'ocs-gone'):
        backend.up(project.file, s)
    backend.kill(project.running('ocs-dead'))
    with pytest.raises(DockerError, match=r'failed \(exit code [1-9].*nosuch'):
        backend.up(project.file, 'ocs-newtag')        # no registry: cannot pull
    project.write({'ocs-run': svc(), 'ocs-dead': svc(IMG2, 'host'),
                   'ocs-never': svc(), 'ocs-newtag': svc('ocs-test/busybox:nosuch')})

    states = parse_docker_state(project.file, backend=backend)
    assert set(states) == {'ocs-run', 'ocs-dead', 'ocs-never', 'ocs-newtag'}
    keys = {'compose_file', 'service', 'image_tag', 'image_id', 'container_found',
            'container_id', 'running', 'running_image', 'exit_code'}
    for st in states.values():
        assert keys <= set(st) and isinstance(st['exit_code'], int), st
        assert st['compose_file'] == project.file
    run, dead = states['ocs-run'], states['ocs-dead']
    assert run['running'] and run['container_found'] and run['exit_code'] == 0
    assert run['image_id'] == run['running_image'] == busybox_images[IMG1]
    assert run['container_id'] == project.running('ocs-run')
    assert not dead['running'] and dead['container_found'] and dead['exit_code'] == 137
    assert dead['running_image'] == busybox_images[IMG2]
    never = states['ocs-never']
    assert not never['container_found'] and not never['running']
    assert never['exit_code'] == 127 and never['container_id'] is None
    assert states['ocs-newtag']['image_id'] == 'unknown'

    _, orphans = backend.compose_state({project.file: {
        s: {'service': s, 'compose_file': project.file, 'image_tag': IMG1}
        for s in ('ocs-run', 'ocs-dead', 'ocs-never')}})
    gone = project.containers('ocs-gone')[0]['Id']
    assert list(orphans) == [gone] and orphans[gone]['service'] == 'ocs-gone'
    backend.stop_and_remove(gone, stop_time=5)
    assert not project.containers('ocs-gone')

    backend.down(project.file, 'ocs-run', stop_time=5)
    assert not project.containers('ocs-run')
    states = parse_docker_state(project.file, backend=backend)
    assert not states['ocs-run']['container_found']
