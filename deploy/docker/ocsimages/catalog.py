"""Which images exist: one per ``packages/agent-*`` plus the router.

Image names are ``ocs-agent-<name>:<version>`` (the package's distribution
name and version from its ``pyproject.toml``) and ``ocs-router:<version>``
(the version of ocs-core, which writes the router config).
"""
import dataclasses
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from . import DOCKER_DIR, REPO

@dataclasses.dataclass(frozen=True)
class Package:
    """A package of the monorepo.

    Attributes:
        name (str): Distribution name, e.g. ``ocs-agent-fakedata``.
        version (str): From its pyproject.toml.
        path (Path): Its folder.
        dependencies (tuple of str): Its ``project.dependencies``.
        image_exclude (tuple of str): Distributions its image leaves out
            although a dependency declares them (``[tool.ocs.image]
            exclude`` in its pyproject): parts of a library the agent never
            imports.
    """
    name: str
    version: str
    path: Path
    dependencies: tuple
    image_exclude: tuple = ()


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
        exclude (tuple of str): Distributions left out of the image
            (:attr:`Package.image_exclude`).
    """
    name: str
    version: str
    package: str
    kind: str
    dockerfile: Path
    exclude: tuple = ()

    @property
    def tag(self):
        """``name:version``."""
        return f"{self.name}:{self.version}"


def read_package(path):
    """Read a package's name, version, dependencies and image exclusions
    from its pyproject.

    Raises:
        ValueError: No ``[project]`` name or version in the file, or a
            ``[tool.ocs.image] exclude`` that is not a list of distribution
            names or that names one of the package's own dependencies.
    """
    path = Path(path)
    pyproject = path / 'pyproject.toml'
    with open(pyproject, 'rb') as f:
        data = tomllib.load(f)
    project = data.get('project', {})
    name, version = project.get('name'), project.get('version')
    if not name or not version:
        raise ValueError(f"{pyproject}: [project] needs a static name and version "
                         f"(found name={name!r}, version={version!r})")
    dependencies = tuple(project.get('dependencies', ()))
    exclude = data.get('tool', {}).get('ocs', {}).get('image', {}).get('exclude', [])
    if not isinstance(exclude, list) or not all(isinstance(e, str) and e for e in exclude):
        raise ValueError(f"{pyproject}: [tool.ocs.image] exclude must be a list of "
                         f"distribution names, not {exclude!r}")
    own = {canonicalize_name(Requirement(d).name) for d in dependencies}
    clash = sorted(e for e in exclude if canonicalize_name(e) in own)
    if clash:
        raise ValueError(f"{pyproject}: [tool.ocs.image] exclude names the package's own "
                         f"dependencies {clash}; exclude only what a dependency pulls in")
    return Package(name, version, path, dependencies, tuple(exclude))


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
                                 DOCKER_DIR / 'Dockerfile', pkg.image_exclude))
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
