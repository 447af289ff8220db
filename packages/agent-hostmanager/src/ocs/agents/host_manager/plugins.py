"""Which agent classes the installed ``ocs.plugins`` provide."""
import json
import subprocess
import sys

from ocs.logs import get_logger

log = get_logger(__name__)

#: Bound on the fresh interpreter that lists the plugins.
FRESH_SCAN_TIMEOUT_S = 30.0

_SCAN = ("import json; from ocs.agents.host_manager.plugins import installed_agents; "
         "print(json.dumps(installed_agents()))")


def installed_agents():
    """Agent classes of the installed ``ocs.plugins``, as {class: package},
    as this interpreter sees them."""
    from importlib.metadata import entry_points
    out = {}
    for ep in sorted(entry_points(group='ocs.plugins'), key=lambda e: e.name):
        try:
            mod = ep.load()
        except Exception as e:  # ocs-agent-cli reports broken plugins too, when run
            log.warning('ocs.plugins entry point does not load; its agents are skipped',
                        entry_point=ep.name, error=f'{type(e).__name__}: {e}')
            continue
        package = getattr(mod, 'package_name', ep.name)
        for name in getattr(mod, 'agents', None) or {}:
            out.setdefault(name, package)
    return out


def installed_agents_now():
    """Like :func:`installed_agents`, but from a fresh interpreter of this
    environment, so that packages installed after this process started are
    found (an editable install's path is only read at interpreter start),
    exactly as the ``ocs-agent-cli`` a HostManager launches will find them.

    Raises:
        RuntimeError: The scan failed (its error output in the message).
    """
    try:
        done = subprocess.run([sys.executable, '-c', _SCAN], capture_output=True, text=True,
                              timeout=FRESH_SCAN_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"listing the ocs.plugins took over {FRESH_SCAN_TIMEOUT_S:g} s")
    if done.returncode != 0:
        raise RuntimeError(f"listing the ocs.plugins failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
