"""The OCS web panel: static files the router serves at ``/``.

The files live in ``static/`` (package data): ``index.html``, the panel's
ES modules and the vendored browser libraries in ``static/vendor/`` (made
by ``packages/ocs-core/web/vendor.sh`` from pinned npm packages). The
router config made by :func:`ocs.router.build_crossbar_config` points
Crossbar's static web service at :func:`static_dir`; the page connects
back to the same origin's WebSocket path.
"""
import os

__all__ = ['static_dir']


def static_dir():
    """Absolute path of the panel's static files (a folder with index.html)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static')
