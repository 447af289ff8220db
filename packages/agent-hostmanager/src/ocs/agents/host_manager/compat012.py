"""Module-level names of ocs 0.12.1's HostManager ``agent`` and ``drivers``
modules, for code that imports them.

This HostManager does not use them: it looks at containers through the
Docker SDK and acts through the compose CLI (:mod:`.docker_backend`), and
its timing is in :mod:`.state`. The helpers here run the ``docker`` command
line as 0.12.1's do, returning Deferreds.
"""
import os
import shutil

import yaml
from twisted.internet import utils

from ocs.agents.host_manager.docker_state import summarize_container

#: 0.12.1's waiting times (s): before an agent that was stopped is taken as
#: dead, and before an agent that was started is checked (first and later
#: checks). This HostManager's own are state.STOP_WAIT_S and
#: state.START_WINDOW_S; changing these has no effect on it.
WAIT_DEAD_TIME = 11
WAIT_START_TIME_FOLLOWUP = 5
WAIT_START_TIME_INIT = 15

#: Agent class shown for a docker compose service that is no site config
#: instance.
NONAGENT_DOCKER = '[docker]'
#: Target states a child can be given.
VALID_TARGETS = ['up', 'down']


def _clsname_tool(name, new_suffix=None):
    """Split an agent class as shown (``'FakeDataAgent[d]'``) at its first
    ``[``: return ``(base, suffix)``, or, given ``new_suffix``, the string
    ``base + new_suffix``.

    Raises:
        AttributeError: ``name`` is not a str (the type 0.12.1 raises).
    """
    if not isinstance(name, str):
        raise AttributeError(f'an agent class name must be a str, not '
                             f'{type(name).__name__}')
    cut = name.find('[')
    base, suffix = (name, '') if cut < 0 else (name[:cut], name[cut:])
    if new_suffix is None:
        return base, suffix
    return base + new_suffix


def _decode(args):
    """``(out, err, code)`` of a process with ``out`` and ``err`` decoded
    from UTF-8."""
    out, err, code = args
    return out.decode('utf-8'), err.decode('utf-8'), code


def _deyaml(args):
    """``(out, err, code)`` with ``out`` parsed as YAML (``docker inspect``
    prints JSON, which is YAML)."""
    out, err, code = args
    return yaml.safe_load(out), err, code


def _run_docker(args, decode=False, deyaml=False):
    """Run ``docker <args>``; return a Deferred that fires with ``(stdout,
    stderr, exit code)`` (bytes, or str with ``decode``; stdout parsed as
    YAML, after decoding, with ``deyaml``)."""
    docker = shutil.which('docker') or 'docker'
    d = utils.getProcessOutputAndValue(docker, [str(a) for a in args], env=os.environ)
    if decode or deyaml:
        d.addCallback(_decode)
    if deyaml:
        d.addCallback(_deyaml)
    return d


def _inspectContainer(cont_id, docker_compose_file):
    """Run docker inspect on cont_id, return dict with the results.

    Returns:
        Deferred firing with a dict: ``service`` (the compose service),
        ``container_found`` (True), ``running``, ``exit_code`` and
        ``running_image`` (image ID).

    Raises (through the Deferred):
        RuntimeError: ``docker inspect`` failed (no such container, no
            engine) or did not describe one container, or the container was
            made from another compose file.
    """
    def check(result):
        info, err, code = result
        if code != 0:
            raise RuntimeError(f'"docker inspect {cont_id}" failed (exit code {code}): '
                               f'{err.strip()}')
        if not isinstance(info, list) or len(info) != 1:
            raise RuntimeError(f'Trouble running "docker inspect {cont_id}".\n'
                               f'stdout: {info}\n  stderr {err}')
        summary = summarize_container(info[0])
        files = summary['config_files']
        if not any(os.path.samefile(f, docker_compose_file) for f in files):
            raise RuntimeError('Consistency problem: container started from some '
                               f'other compose file?\n{docker_compose_file}\n'
                               + ','.join(files))
        return {'service': summary['service'], 'container_found': True,
                'running': summary['running'], 'exit_code': summary['exit_code'],
                'running_image': summary['running_image']}

    return _run_docker(['inspect', cont_id], deyaml=True).addCallback(check)
