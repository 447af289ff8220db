"""HostManager drivers: the names of the API reference, gathered.

- :mod:`~ocs.agents.host_manager.state`: ManagedInstance,
  resolve_child_state, stability_factor (pure).
- :mod:`~ocs.agents.host_manager.instances`: site config -> tracked
  instances (pure).
- :mod:`~ocs.agents.host_manager.docker_state`: compose files, ``docker
  compose ps`` and ``docker inspect`` output (pure).
- :mod:`~ocs.agents.host_manager.docker_backend`: the docker boundary.
- :mod:`~ocs.agents.host_manager.process`: AgentProcessHelper (Twisted).
- :mod:`~ocs.agents.host_manager.docker_helper`: DockerContainerHelper.
"""
import os

from ocs.agents.host_manager.docker_backend import DockerBackend, DockerError
from ocs.agents.host_manager.docker_helper import DockerContainerHelper
from ocs.agents.host_manager.docker_state import ComposeFileError, read_compose_file
from ocs.agents.host_manager.process import AgentProcessHelper
from ocs.agents.host_manager.state import (ManagedInstance, resolve_child_state,
                                           stability_factor)
# ocs 0.12.1's names of this module (see compat012).
from ocs.agents.host_manager.compat012 import (  # noqa: F401
    WAIT_DEAD_TIME, WAIT_START_TIME_FOLLOWUP, WAIT_START_TIME_INIT, _decode, _deyaml,
    _inspectContainer, _run_docker)

__all__ = ['ManagedInstance', 'resolve_child_state', 'stability_factor',
           'AgentProcessHelper', 'DockerContainerHelper', 'parse_docker_state',
           'ComposeFileError', 'DockerError']


def parse_docker_state(docker_compose_file, backend=None):
    """Analyze a docker compose.yaml file to get a list of services. Using
    the docker engine (``docker inspect``), determine whether each service
    is running or not.

    This blocks (it talks to the docker engine); call it from a thread in
    Twisted code.

    Args:
        docker_compose_file (str): Path of the compose file.
        backend (DockerBackend, optional): The docker boundary to use.

    Returns:
        A dict where the key is the service name and each value is a dict
        with the following entries:

        - 'compose_file': the path to the docker compose file
        - 'service': service name
        - 'image_tag': the tag listed for the image in the compose file
          (this may differ from the running image).
        - 'image_id': the docker image ID corresponding to 'image_tag'; will
          be "unknown" if, e.g., listed tag is not yet pulled to the running
          system.
        - 'container_found': bool, indicates whether a container for this
          service was found (whether or not it was running).
        - 'running': bool, whether that container is running.
        - 'exit_code': int, the container's exit code from docker inspect
          (0 while it runs), or 127 if no container was found; never None.
        - 'container_id': its ID (None if not found).
        - 'running_image': the image ID it runs.
        - 'restart_required': True if it runs an image other than the one
          'image_tag' now names.

    Raises:
        ComposeFileError: The compose file is missing or bad (names the
            file and line).
        DockerError: The docker engine could not be asked.
    """
    path = os.path.abspath(docker_compose_file)
    services = read_compose_file(path)
    backend = backend or DockerBackend()
    states, _orphans = backend.compose_state({path: services})
    return states
