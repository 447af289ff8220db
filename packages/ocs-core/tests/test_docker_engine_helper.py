"""DockerEngine's refusals: each names why the docker tier cannot run (these
are the messages the tier is skipped with). No engine is started here: the
'dockerd' programs are small scripts standing in for a failing daemon."""
import os
import time

import pytest

from ocs.testing import docker_engine as docker_testing
from ocs.testing.docker_engine import DockerEngine, EngineUnavailable


def script(tmp_path, body):
    path = tmp_path / 'fake-dockerd'
    path.write_text('#!/bin/sh\n' + body + '\n')
    path.chmod(0o755)
    return str(path)


def test_not_root_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(os, 'geteuid', lambda: 1000)
    with pytest.raises(EngineUnavailable, match=r'must run as root \(uid is 1000\)'):
        DockerEngine(str(tmp_path)).start()


def test_missing_dockerd_is_named(tmp_path):
    with pytest.raises(EngineUnavailable, match=r"dockerd not found \(/nonexistent/dockerd\)"
                       r".*docker\.io"):
        DockerEngine(str(tmp_path), dockerd='/nonexistent/dockerd').start()


@pytest.mark.integration
def test_dockerd_exiting_at_start_gives_its_log_tail(tmp_path):
    fake = script(tmp_path, 'echo "failed to start daemon: no space left" >&2; exit 3')
    engine = DockerEngine(str(tmp_path / 'eng'), dockerd=fake)
    with pytest.raises(EngineUnavailable) as err:
        engine.start()
    msg = str(err.value)
    assert 'exited with code 3' in msg and 'failed to start daemon: no space left' in msg
    assert not engine.running


@pytest.mark.integration
def test_dockerd_not_answering_is_stopped(tmp_path):
    fake = script(tmp_path, 'echo "starting slowly"; exec sleep 60')
    engine = DockerEngine(str(tmp_path / 'eng'), dockerd=fake, start_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r'did not answer .* within 1 s(.|\n)*'
                                                r'starting slowly'):
        engine.start()
    assert time.monotonic() - t0 < 15
    pid = engine.pid
    assert not os.path.exists(f'/proc/{pid}') or 'Z' in open(f'/proc/{pid}/stat').read()


def test_busybox_rootfs_lists_applets(tmp_path):
    if not os.access(docker_testing.BUSYBOX, os.X_OK):
        with pytest.raises(EngineUnavailable, match='busybox-static'):
            docker_testing.make_busybox_rootfs(str(tmp_path / 'r.tar'))
        return
    import tarfile
    path = docker_testing.make_busybox_rootfs(str(tmp_path / 'r.tar'))
    with tarfile.open(path) as tar:
        names = {m.name: m for m in tar.getmembers()}
    assert names['bin/busybox'].isfile() and names['bin/busybox'].mode & 0o111
    assert names['bin/sh'].issym() and names['bin/sh'].linkname == 'busybox'
    assert names['bin/sleep'].issym() and names['tmp'].isdir()
