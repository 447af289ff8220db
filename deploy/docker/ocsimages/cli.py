"""``python -m ocsimages``: lock the dependencies, build the images.

Examples (from the repository root, with the shared venv)::

    PYTHONPATH=deploy/docker .venv/bin/python -m ocsimages lock
    PYTHONPATH=deploy/docker .venv/bin/python -m ocsimages build            # python:3.11-slim
    PYTHONPATH=deploy/docker .venv/bin/python -m ocsimages build --debian-base fakedata
"""
import sys
import time

import click

from ocs import logs

from . import REPO, cache_root
from .builder import BuildError, DockerCLI, build_images
from .catalog import select
from .debian_base import BaseImageError, import_base_image
from .lock import LockError, check_lock, write_locks
from .wheelhouse import WheelError, make_context


@click.group()
def main():
    """Build the OCS container images (see deploy/docker/README.md)."""
    logs.configure(level='info')


@main.command()
@click.option('--venv', default=str(REPO / '.venv'), show_default=True,
              help='Venv whose versions pin the agent images.')
@click.option('--crossbar-venv', default=str(REPO / '.venv-crossbar'), show_default=True,
              help="Crossbar's venv, whose versions pin the router image.")
def lock(venv, crossbar_venv):
    """Write locks/agents.txt and locks/router.txt from the working venvs."""
    try:
        for path in write_locks(venv, crossbar_venv):
            click.echo(f"wrote {path}")
        check_lock()
    except LockError as e:
        raise click.ClickException(str(e))


@main.command()
@click.argument('images', nargs=-1)
@click.option('--base-image', default='python:3.11-slim', show_default=True,
              help='BASE_IMAGE of the Dockerfiles.')
@click.option('--debian-base', is_flag=True,
              help='Build on a local base image made with debootstrap (no registry '
                   'needed; root only) instead of --base-image.')
@click.option('--context', default=None, help='Build context folder to (re)make '
              '(default: <cache>/context).')
@click.option('--docker', default=None, help='docker CLI to use (must build with BuildKit).')
def build(images, base_image, debian_base, context, docker):
    """Build IMAGES (default: every agent image and the router image)."""
    t0 = time.monotonic()
    try:
        check_lock()
        specs = select(images)
        cli = DockerCLI(docker=docker)
        if debian_base:
            base_image = import_base_image(cli)
        ctx = make_context(context or cache_root() / 'context')
        times = build_images(cli, specs, ctx, base_image)
    except (LockError, KeyError, BuildError, BaseImageError, WheelError) as e:
        raise click.ClickException(str(e))
    for tag, seconds in times.items():
        click.echo(f"built {tag} in {seconds:.1f} s")
    click.echo(f"{len(times)} images on {base_image} in {time.monotonic() - t0:.0f} s")


if __name__ == '__main__':
    sys.exit(main())
