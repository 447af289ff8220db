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

#: Run inside every image: who runs it, what is installed, which agents,
#: and every module of the agents' packages imported (so a distribution left
#: out of an image, see ``[tool.ocs.image] exclude``, cannot break one).
PROBE = r"""
import importlib, json, os, pkgutil, importlib.metadata as md
from ocs.agent_cli import build_agent_list
agents = build_agent_list()
modules = set()
for info in agents.values():
    pkg = importlib.import_module(info["module"].rsplit(".", 1)[0])
    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(m.name)
        modules.add(m.name)
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(),
                  "dists": {d.metadata["Name"]: d.version for d in md.distributions()},
                  "agents": sorted(agents), "modules": sorted(modules)}))
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


def test_image_exclusions_are_read_and_checked(tmp_path):
    """``[tool.ocs.image] exclude``: what an agent image leaves out."""
    agg = {im.package: im for im in catalog.agent_images()}['ocs-agent-aggregator']
    assert {'astropy', 'scipy', 'matplotlib'} <= set(agg.exclude)
    pinned = lock.read_lock(lock.AGENTS_LOCK)
    for im in catalog.agent_images():
        for name in im.exclude:     # a typo would leave nothing out, silently
            assert canonicalize_name(name) in pinned, \
                f"{im.package} excludes {name!r}, which nothing it depends on declares"

    def package_with(table):
        d = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
        d.mkdir()
        (d / 'pyproject.toml').write_text(
            '[project]\nname = "ocs-agent-x"\nversion = "1.0"\n'
            'dependencies = ["ocs-core", "so3g>=0.2"]\n' + table)
        return d
    assert catalog.read_package(package_with('')).image_exclude == ()
    with pytest.raises(ValueError, match=r"pyproject.toml: \[tool.ocs.image\] exclude must "
                                         r"be a list of distribution names, not 'scipy'"):
        catalog.read_package(package_with('[tool.ocs.image]\nexclude = "scipy"\n'))
    with pytest.raises(ValueError, match=r"names the package's own dependencies \['SO3G'\]"):
        catalog.read_package(package_with('[tool.ocs.image]\nexclude = ["SO3G"]\n'))


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
        print(f"{spec.tag}: {info['Size'] / 1e6:.0f} MB")


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
        left_in = {canonicalize_name(n) for n in spec.exclude} & set(dists)
        assert not left_in, f"{spec.tag} has {sorted(left_in)}, which its package excludes"
        if spec.kind == 'agent':
            assert set(probe['agents']) == _plugin_agents(spec.package), spec.tag
            assert probe['modules'], spec.tag
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

