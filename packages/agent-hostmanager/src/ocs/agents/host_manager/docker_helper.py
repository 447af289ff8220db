"""Running one docker compose service as a HostManager child (Twisted side)."""
import time

from twisted.internet import threads

from ocs.agents.host_manager.docker_backend import DockerBackend, DockerError
from ocs.logs import get_logger


class DockerContainerHelper:
    """Class for managing the docker container associated with some service.
    Provides some of the same interface as AgentProcessHelper. Pass in a
    service description dict (such as the ones returned by
    parse_docker_state).

    ``up`` and ``down`` run the compose command in a thread; ``busy`` is
    True meanwhile, and until an :meth:`update` with docker state taken after
    the command finished. ``is_running`` reflects the latest :meth:`update`.

    Args:
        service (dict): Service description (``service``, ``compose_file``,
            ``running``, ``exit_code``, ...).
        docker_bin (str, optional): docker (or docker-compose) executable.
        backend (DockerBackend, optional): Shared backend.
        on_done (callable, optional): ``on_done(helper)`` after an up/down
            finished (the HostManager refreshes docker state then).
    """

    def __init__(self, service, docker_bin=None, backend=None, on_done=None):
        self.backend = backend or DockerBackend(docker_bin=docker_bin)
        self.service = service['service']
        self.compose_file = service['compose_file']
        self.status = None, None
        self._inflight = False
        self._done_at = None
        self.last_error = None
        self.on_done = on_done
        self.log = get_logger('ocs.host_manager.docker', service=self.service)
        self.update(service)

    def update(self, service, as_of=None):
        """Update self.status based on service info (in format returned by
        parse_docker_state).

        Args:
            service (dict): The service's state.
            as_of (float, optional): Unix time the state was read; state
                read before the last up/down finished does not end ``busy``.
        """
        if self._done_at is not None and (as_of is None or as_of >= self._done_at):
            self._done_at = None
        self.compose_file = service.get('compose_file', self.compose_file)
        self.container_id = service.get('container_id')
        running = bool(service.get('running'))
        self.status = running, (None if running else service.get('exit_code'))

    @property
    def busy(self):
        """True while an up/down runs, or its outcome is not seen yet."""
        return self._inflight or self._done_at is not None

    @property
    def is_running(self):
        """True if the service's container was running at the last update."""
        return bool(self.status[0])

    @property
    def exit_code(self):
        """Exit code of the stopped container, if known."""
        return self.status[1]

    def _run(self, what, fn, *args):
        self._inflight = True
        self.last_error = None

        def done(result):
            self._inflight = False
            self._done_at = time.time()
            if isinstance(result, Exception):
                self.last_error = str(result)
                self.log.error('compose action failed', action=what, error=str(result))
            else:
                self.log.info('compose action done', action=what)
                if what == 'down':
                    self.status = False, self.status[1]
            if self.on_done is not None:
                self.on_done(self)
            return None

        def call():
            try:
                return fn(*args)
            except DockerError as e:
                return e
        d = threads.deferToThread(call)
        d.addBoth(done)
        return d

    def up(self):
        """``compose up -d`` the service (in a thread); returns a Deferred."""
        return self._run('up', self.backend.up, self.compose_file, self.service)

    def down(self):
        """``compose stop`` and ``rm`` the service (in a thread); returns a
        Deferred."""
        return self._run('down', self.backend.down, self.compose_file, self.service)
