"""A real Crossbar router on a free loopback port, for tests and scripts."""
import itertools
import os
import shutil
import tempfile

from ocs.router import (PortInUseError, RouterController, bridge_call,
                        build_crossbar_config)

from .ports import free_port
from .site_file import write_site_file

#: Crossbar takes 3-5 s to answer on a quiet machine, over 30 s on a loaded one.
START_TIMEOUT_S = 90.0


class RouterProcess:
    """Run Crossbar with the OCS router config on a loopback port.

    Args:
        realm (str): WAMP realm.
        address_root (str): Agent address prefix.
        port (int, optional): TCP port; a free one is picked by default.
        cbdir (str, optional): Node directory; a temporary one by default
            (removed by :meth:`cleanup`).
        site_dir (str, optional): Where :meth:`write_site` puts files;
            ``cbdir``'s parent by default.
        interface (str): Address to listen on.
        auto_ping_size (int): WebSocket ping payload size.
        crossbar_bin (str, optional): Crossbar executable.

    The port stays the same across :meth:`stop` / :meth:`start` /
    :meth:`restart`, so clients and agents can reconnect to it.

    Example::

        with RouterProcess() as router:
            site = router.write_site([{'instance-id': 'faker1',
                                       'agent-class': 'FakeDataAgent'}])
            ...
    """

    def __init__(self, realm='test_realm', address_root='observatory',
                 port=None, cbdir=None, site_dir=None, interface='127.0.0.1',
                 auto_ping_size=12, crossbar_bin=None):
        self.realm = realm
        self.address_root = address_root
        self.interface = interface
        self.auto_ping_size = auto_ping_size
        self.crossbar_bin = crossbar_bin
        self._port_given = port is not None
        self.port = port or free_port(interface)
        self._tmp = None
        if cbdir is None:
            self._tmp = tempfile.mkdtemp(prefix='ocs-router-')
            cbdir = os.path.join(self._tmp, 'cbdir')
        self.cbdir = str(cbdir)
        self.site_dir = str(site_dir or os.path.dirname(os.path.abspath(self.cbdir)))
        self._site_count = itertools.count(1)
        self._ever_started = False
        self._controller = self._make_controller()

    def _make_controller(self):
        cfg = build_crossbar_config(self.realm, self.address_root, self.port,
                                    interface=self.interface,
                                    auto_ping_size=self.auto_ping_size)
        return RouterController(self.cbdir, cfg, crossbar_bin=self.crossbar_bin)

    # -- addresses --------------------------------------------------------
    @property
    def ws_url(self):
        """``ws://127.0.0.1:<port>/ws``"""
        return self._controller.ws_url

    @property
    def http_url(self):
        """``http://127.0.0.1:<port>/call``"""
        return self._controller.http_url

    @property
    def hub(self):
        """The site config ``hub`` section for this router."""
        return {'wamp_server': self.ws_url, 'wamp_http': self.http_url,
                'wamp_realm': self.realm, 'address_root': self.address_root}

    @property
    def pid(self):
        """PID of the running crossbar, or None."""
        return self._controller.read_pid()

    @property
    def log_path(self):
        """Crossbar's log file."""
        return self._controller.log_path

    @property
    def controller(self):
        """The underlying :class:`ocs.router.RouterController`."""
        return self._controller

    # -- lifecycle --------------------------------------------------------
    def start(self, timeout=START_TIMEOUT_S):
        """Start crossbar and wait until it answers; return its PID.

        If the port was picked automatically and is grabbed by someone else
        before the first start, another free port is tried (twice).
        """
        attempts = 1 if (self._port_given or self._ever_started) else 3
        for attempt in range(attempts):
            try:
                pid = self._controller.start(timeout=timeout)
                self._ever_started = True
                return pid
            except PortInUseError:
                if attempt == attempts - 1:
                    raise
                self.port = free_port(self.interface)
                self._controller = self._make_controller()

    def stop(self, timeout=10.0):
        """Stop crossbar by PID (SIGTERM, then SIGKILL); True if it ran."""
        return self._controller.stop(timeout=timeout)

    def restart(self, timeout=START_TIMEOUT_S):
        """Stop and start again on the same port; return the new PID."""
        self.stop()
        return self._controller.start(timeout=timeout)

    def is_running(self):
        """True if the crossbar process is alive."""
        return self.pid is not None

    def ensure_running(self, timeout=START_TIMEOUT_S):
        """Start the router again if it is not running (e.g. after a crash)."""
        if not self.is_running():
            self._controller.start(timeout=timeout)

    def log_tail(self, lines=40):
        """The last lines of crossbar's log."""
        return self._controller.log_tail(lines, since_start=False)

    def cleanup(self):
        """Stop the router and remove the temporary directory, if any."""
        self.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # -- helpers ----------------------------------------------------------
    def write_site(self, instances, path=None, host='localhost',
                   extra_hub=None, extra_host=None):
        """Write a site config YAML that points at this router.

        Args:
            instances: Agent instances: a list of dicts in site config form
                (``{'instance-id': 'faker1', 'agent-class': 'FakeDataAgent',
                'arguments': [['--mode', 'idle']]}``), or a dict mapping
                instance_id to agent class (or to such a dict).
            path (str, optional): Where to write; a new file in
                ``site_dir`` by default.
            host (str): Host entry name.
            extra_hub (dict, optional): Keys merged into ``hub`` (e.g.
                ``{'access_policy': 'director:access-dir'}``).
            extra_host (dict, optional): Keys merged into the host entry.

        Returns:
            str: The file's path.
        """
        hub = self.hub
        hub.update(extra_hub or {})
        if path is None:
            path = os.path.join(self.site_dir, f'site-{next(self._site_count)}.yaml')
        return write_site_file(path, hub, instances, host=host,
                               extra_host=extra_host)

    def call_raw(self, procedure, args=(), kwargs=None, timeout=10.0):
        """Call ``procedure`` through the HTTP bridge; return the JSON reply.

        Returns ``{'args': [result]}`` on success or
        ``{'error': uri, 'args': [...], 'kwargs': {...}}`` on failure.
        """
        return bridge_call(self.http_url, procedure, args, kwargs, timeout=timeout)

    def call(self, procedure, *args, **kwargs):
        """Call ``procedure(*args, **kwargs)`` through the HTTP bridge.

        Returns the raw JSON reply (see :meth:`call_raw`).
        """
        return self.call_raw(procedure, args, kwargs)
