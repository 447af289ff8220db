"""Which images exist: one per ``packages/agent-*`` plus the router.

Image names are ``ocs-agent-<name>:<version>`` (the package's distribution
name and version from its ``pyproject.toml``) and ``ocs-router:<version>``
(the version of ocs-core, which writes the router config).
"""
import dataclasses
import tomllib
from pathlib import Path

from . import DOCKER_DIR, REPO

@dataclasses.dataclass(frozen=True)
class Package:
    """A package of the monorepo.

    Attributes:
        name (str): Distribution name, e.g. ``ocs-agent-fakedata``.
        version (str): From its pyproject.toml.
        path (Path): Its folder.
        dependencies (tuple of str): Its ``project.dependencies``.
    """
    name: str
    version: str
    path: Path
    dependencies: tuple


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """One image to build.

    Attributes:
        name (str): Repository name, e.g. ``ocs-agent-fakedata``.
        version (str): Tag.
        package (str): Distribution installed in it (its entry point
            and dependencies come with it).
        kind (str): ``agent`` or ``router``.
        dockerfile (Path): The Dockerfile.
    """
    name: str
    version: str
    package: str
    kind: str
    dockerfile: Path

    @property
    def tag(self):
        """``name:version``."""
        return f"{self.name}:{self.version}"


def read_package(path):
    """Read a package's name, version and dependencies from its pyproject.

    Raises:
        ValueError: No ``[project]`` name or version in the file.
    """
    path = Path(path)
    pyproject = path / 'pyproject.toml'
    with open(pyproject, 'rb') as f:
        project = tomllib.load(f).get('project', {})
    name, version = project.get('name'), project.get('version')
    if not name or not version:
        raise ValueError(f"{pyproject}: [project] needs a static name and version "
                         f"(found name={name!r}, version={version!r})")
    return Package(name, version, path, tuple(project.get('dependencies', ())))


def packages(repo=REPO):
    """Every package under ``packages/``, by distribution name."""
    out = {}
    for p in sorted(Path(repo, 'packages').iterdir()):
        if (p / 'pyproject.toml').is_file():
            pkg = read_package(p)
            out[pkg.name] = pkg
    return out


def agent_images(repo=REPO):
    """An :class:`ImageSpec` for every ``packages/agent-*`` package."""
    out = []
    for pkg in packages(repo).values():
        if pkg.path.name.startswith('agent-'):
            out.append(ImageSpec(pkg.name, pkg.version, pkg.name, 'agent',
                                 DOCKER_DIR / 'Dockerfile'))
    return out


def router_image(repo=REPO):
    """The :class:`ImageSpec` of the router image."""
    core = packages(repo)['ocs-core']
    return ImageSpec('ocs-router', core.version, 'ocs-core', 'router',
                     DOCKER_DIR / 'Dockerfile.router')


def all_images(repo=REPO):
    """Every image: the agents' then the router's."""
    return agent_images(repo) + [router_image(repo)]


def select(names, repo=REPO):
    """The images named in ``names`` (image names or package folder short
    names like ``fakedata``); all of them if ``names`` is empty.

    Raises:
        KeyError: A name matches no image (the message lists them).
    """
    images = all_images(repo)
    if not names:
        return images
    by_name = {}
    for im in images:
        by_name[im.name] = im
        by_name[im.name.removeprefix('ocs-agent-').removeprefix('ocs-')] = im
    out = []
    for n in names:
        if n not in by_name:
            raise KeyError(f"no image {n!r}; images: "
                           f"{', '.join(im.name for im in images)}")
        if by_name[n] not in out:
            out.append(by_name[n])
    return out
