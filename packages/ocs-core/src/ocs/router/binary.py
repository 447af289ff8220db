"""Find the crossbar executable."""
import os
import shutil
from pathlib import Path

from .errors import CrossbarNotFoundError

#: Environment variable naming the crossbar executable.
ENV_VAR = 'OCS_CROSSBAR_BIN'
#: Where ``make crossbar`` installs it, relative to the repository root.
REPO_RELATIVE = Path('.venv-crossbar', 'bin', 'crossbar')

_HINT = ("Install it with `make crossbar` (in the repository root), or name "
         "the executable in the site config (hosts.<host>.crossbar.bin) or "
         f"in ${ENV_VAR}.")


def _repo_candidates(start=None):
    here = Path(start or __file__).resolve()
    for parent in [here] + list(here.parents):
        yield parent / REPO_RELATIVE


def _is_exe(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_crossbar(configured=None, env=None, search_from=None):
    """Return the path of the crossbar executable.

    Looks, in order, at ``configured`` (the site config's ``crossbar.bin``),
    ``$OCS_CROSSBAR_BIN``, ``crossbar`` on ``PATH``, and
    ``.venv-crossbar/bin/crossbar`` in a folder above this package (the
    repository's ``make crossbar`` venv).

    Args:
        configured (str, optional): Explicit path from the site config.
        env (dict, optional): Environment to read; ``os.environ`` by default.
        search_from (str, optional): Where the walk up for
            ``.venv-crossbar`` starts; this module's file by default.

    Raises:
        CrossbarNotFoundError: Nothing found, or an explicit setting names a
            file that is not an executable.
    """
    env = os.environ if env is None else env
    for source, value in (('site config crossbar.bin', configured),
                          (f'${ENV_VAR}', env.get(ENV_VAR))):
        if value:
            if _is_exe(value):
                return str(value)
            raise CrossbarNotFoundError(
                f"{source} is {value!r}, which is not an executable file. {_HINT}")
    found = shutil.which('crossbar')
    if found:
        return found
    for candidate in _repo_candidates(search_from):
        if _is_exe(candidate):
            return str(candidate)
    raise CrossbarNotFoundError(f"crossbar executable not found. {_HINT}")
