"""Build the OCS container images: one per agent package, plus the router.

- :mod:`ocsimages.catalog`: which images exist (names, versions, packages).
- :mod:`ocsimages.lock`: pinned dependency lists made from the working venvs.
- :mod:`ocsimages.wheelhouse`: wheels built on the host, cached, and the
  build context holding them (no network inside image builds).
- :mod:`ocsimages.debian_base`: a local base image from ``debootstrap``
  (for machines that cannot pull ``python:3.11-slim``).
- :mod:`ocsimages.builder`: ``docker build`` of every image.
- :mod:`ocsimages.cli`: ``python -m ocsimages`` (used by ``make images``).
"""
import os
from pathlib import Path

#: This folder (deploy/docker).
DOCKER_DIR = Path(__file__).resolve().parent.parent
#: The repository root.
REPO = DOCKER_DIR.parent.parent


def cache_root():
    """Folder for cached wheels and root file systems (outside the repo).

    ``$OCS_DEPLOY_CACHE``, else ``$XDG_CACHE_HOME/ocs-deploy``, else
    ``~/.cache/ocs-deploy``.
    """
    if os.environ.get('OCS_DEPLOY_CACHE'):
        return Path(os.environ['OCS_DEPLOY_CACHE'])
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'ocs-deploy'
