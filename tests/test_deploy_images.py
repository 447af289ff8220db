"""The container images of deploy/docker: locks, names, and real builds.

No registry can be reached here, so the images are built on a local base
image made with debootstrap (Debian bookworm's python3 is 3.11, as in the
default ``python:3.11-slim``), on a private Docker engine started by the
test (``DockerEngine``: vfs, no bridge, host networking) and stopped after
the last test that needs it (shared with tests/test_compose.py).
"""
import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'deploy' / 'docker'))

from ocsimages import catalog, lock  # noqa: E402
from ocsimages.testing import built_site  # noqa: E402,F401 (a fixture)

#: Run inside every image: who runs it, what is installed, which agents.
PROBE = r"""
import json, os, importlib.metadata as md
from ocs.agent_cli import build_agent_list
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(),
                  "dists": {d.metadata["Name"]: d.version for d in md.distributions()},
                  "agents": sorted(build_agent_list())}))
"""


def _plugin_agents(dist_name):
    """Agent classes declared by the installed (editable) package."""
    out = set()
    for ep in md.entry_points(group='ocs.plugins'):
        if ep.dist is not None and canonicalize_name(ep.dist.name) == canonicalize_name(dist_name):
            out |= set(ep.load().agents)
    return out


# -- without an engine -------------------------------------------------------

def test_locks_pin_what_the_packages_require():
    lock.check_lock()
    agents = lock.read_lock(lock.AGENTS_LOCK)
    for name in ('twisted', 'autobahn', 'so3g', 'docker', 'influxdb-client'):
        assert name in agents, f"{name} missing from {lock.AGENTS_LOCK}"
    assert 'crossbar' in lock.read_lock(lock.ROUTER_LOCK)


def test_lock_check_names_a_pin_outside_a_requirement():
    pinned = lock.read_lock(lock.AGENTS_LOCK)
    pinned['twisted'] = '1.0'
    with pytest.raises(lock.LockError, match=r"ocs-core needs 'twisted>=.*twisted==1\.0"):
        lock.lock_satisfies(pinned, ['ocs-core'])
    del pinned['twisted']
    with pytest.raises(lock.LockError, match="does not pin"):
        lock.lock_satisfies(pinned, ['ocs-core'])


def test_one_image_per_agent_package_named_by_its_version():
    pkgs = catalog.packages()
    agent_dirs = sorted(p.name for p in (REPO / 'packages').iterdir()
                        if p.name.startswith('agent-') and (p / 'pyproject.toml').exists())
    images = catalog.all_images()
    assert len(images) == len(agent_dirs) + 1
    for im in images[:-1]:
        assert im.name.startswith('ocs-agent-')
        assert im.tag == f"{im.package}:{pkgs[im.package].version}"
        assert im.dockerfile == REPO / 'deploy' / 'docker' / 'Dockerfile'
    router = images[-1]
    assert router.tag == f"ocs-router:{pkgs['ocs-core'].version}"
    with pytest.raises(KeyError, match='no image'):
        catalog.select(['no-such-agent'])
    assert [im.name for im in catalog.select(['fakedata'])] == ['ocs-agent-fakedata']


def test_cli_names_an_unknown_image():
    r = subprocess.run([sys.executable, '-m', 'ocsimages', 'build', 'no-such-agent'],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'PYTHONPATH': str(REPO / 'deploy' / 'docker')})
    assert r.returncode != 0
    assert "no image 'no-such-agent'" in r.stderr and 'ocs-agent-fakedata' in r.stderr


# -- on a real engine ----------------------------------------------------------

@pytest.mark.integration
@pytest.mark.docker
def test_every_image_builds_on_the_debootstrap_base(built_site):
    print(f"\nimage tier timings (s): {json.dumps(built_site.timings)}")
    d = built_site.docker
    for spec in built_site.images:
        r = d.run('image', 'inspect', spec.tag, check=True)
        info = json.loads(r.stdout)[0]
        cfg = info['Config']
        assert cfg['User'] == 'ocs', spec.tag
        assert cfg['Labels']['org.opencontainers.image.version'] == spec.version
        assert any('ocs-healthcheck' in w for w in cfg['Healthcheck']['Test']), spec.tag
        expected_entry = ['ocs-agent-cli'] if spec.kind == 'agent' else ['ocs-router-entrypoint']
        assert cfg['Entrypoint'] == expected_entry, spec.tag
        # Built on the debootstrap base: its layers are the first ones.
        base_layers = json.loads(d.run('image', 'inspect', built_site.base_image,
                                       check=True).stdout)[0]['RootFS']['Layers']
        assert info['RootFS']['Layers'][:len(base_layers)] == base_layers, spec.tag


@pytest.mark.integration
@pytest.mark.docker
def test_images_run_as_non_root_with_the_locked_versions(built_site):
    d = built_site.docker
    local = lock.local_names()
    for spec in built_site.images:
        r = d.run('run', '--rm', '--network', 'none', '--entrypoint', 'python',
                  spec.tag, '-c', PROBE, check=True, timeout=180)
        probe = json.loads(r.stdout.strip().splitlines()[-1])
        assert probe['uid'] != 0 and probe['gid'] != 0, f"{spec.tag} runs as root"
        pins = lock.read_lock(lock.AGENTS_LOCK if spec.kind == 'agent' else lock.ROUTER_LOCK)
        dists = {canonicalize_name(n): v for n, v in probe['dists'].items()}
        assert canonicalize_name(spec.package) in dists, spec.tag
        for name, version in dists.items():
            if name in local:
                continue
            assert pins.get(name) == version, \
                f"{spec.tag} has {name}=={version}, the lock pins {pins.get(name)}"
        assert 'pip' not in dists, f"{spec.tag} ships pip"
        if spec.kind == 'agent':
            assert set(probe['agents']) == _plugin_agents(spec.package), spec.tag
        else:
            assert 'crossbar' in dists


@pytest.mark.integration
@pytest.mark.docker
def test_agent_healthcheck_reports_an_agent_that_does_not_answer(built_site, tmp_path):
    """The image's healthcheck fails, naming the agent, when nobody answers."""
    site = tmp_path / 'default.yaml'
    site.write_text("hub: {wamp_server: 'ws://127.0.0.1:9/ws', wamp_http: "
                    "'http://127.0.0.1:9/call', wamp_realm: r, address_root: obs}\n"
                    "hosts: {box: {agent-instances: [{agent-class: FakeDataAgent, "
                    "instance-id: faker9}]}}\n")
    site.chmod(0o644)
    spec = catalog.select(['fakedata'])[0]
    r = built_site.docker.run(
        'run', '--rm', '--network', 'host', '-e', 'INSTANCE_ID=faker9', '-e', 'SITE_HOST=box',
        '-v', f"{site}:/config/default.yaml:ro", '--entrypoint', 'ocs-healthcheck',
        spec.tag, timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'obs.faker9' in r.stderr and '127.0.0.1:9/call' in r.stderr

