"""HostManager: starts, watches and stops the OCS agents of one host, as
processes (through ``ocs-agent-cli``) or as docker compose services."""
import argparse
import os
import sys
import time
import types

from twisted.internet import reactor, threads
from twisted.internet.defer import Deferred, inlineCallbacks, succeed

import ocs  # noqa: F401  (0.12.1's module offers it)
from ocs import ocs_agent, site_config
from ocs.config.model import normalize_manage
from ocs.agents.host_manager import drivers as hm_utils  # noqa: F401  (0.12.1's name)
from ocs.agents.host_manager.compat012 import (  # noqa: F401  (0.12.1's names)
    NONAGENT_DOCKER, VALID_TARGETS, _clsname_tool)
from ocs.agents.host_manager import docker_state, instances
from ocs.agents.host_manager.docker_backend import DockerBackend, DockerError
from ocs.agents.host_manager.docker_helper import DockerContainerHelper
from ocs.agents.host_manager.plugins import installed_agents, installed_agents_now  # noqa: F401
from ocs.agents.host_manager.process import AgentProcessHelper
from ocs.agents.host_manager.state import resolve_child_state

#: Longest the manager loop sleeps without looking at its children.
LOOP_MAX_SLEEP_S = 1.0
#: How often docker's view of the compose services is refreshed.
DOCKER_POLL_S = 2.0
#: Bound on bringing children down when the manager stops.
STOP_BOUND_S = 15.0
#: Key of the site config file in config_parse_status.
SCF_KEY = '[SCF]'


def __getattr__(name):
    # 0.12.1's module imports ocs.agent_cli; loaded here only on use.
    if name == 'agent_cli':
        import ocs.agent_cli
        return ocs.agent_cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    # The lazily loaded name is part of the module's namespace (PEP 562).
    return sorted(set(globals()) | {'agent_cli'})


def _host_managed(entry):
    try:
        return normalize_manage(entry.get('manage')).startswith('host')
    except Exception:       # reported when the table is built
        return False


def agent_cli_command():
    """The command that starts ``ocs-agent-cli`` from this environment."""
    cli = os.path.join(os.path.dirname(sys.executable), 'ocs-agent-cli')
    if os.access(cli, os.X_OK):
        return [cli]
    return [sys.executable, '-m', 'ocs.agent_cli']


class HostManager:
    """This Agent is used to start and stop OCS-relevant services on a
    particular host. If the HostManager is launched automatically when a
    system boots, it can then be used to start up the rest of OCS on that
    host (either automatically or on request).

    Args:
        agent (OCSAgent): The agent from :func:`ocs.ocs_agent.init_site_agent`.
        docker_composes (list of str): docker compose files whose services
            this HostManager manages.
        docker_service_prefix (str): The docker service of a site config
            instance is this prefix plus its instance-id.
        site_args (argparse.Namespace, optional): The HostManager's parsed
            site arguments (``site_file``, ``site_host``, ``working_dir``);
            default ``agent.site_args``.
        docker_bin (str, optional): docker (or docker-compose) executable.
    """

    def __init__(self, agent, docker_composes=None, docker_service_prefix='ocs-',
                 site_args=None, docker_bin=None):
        self.agent = agent
        self.log = agent.log
        self.site_args = site_args if site_args is not None else agent.site_args
        self.docker_composes = [os.path.abspath(os.path.expanduser(f))
                                for f in (docker_composes or [])]
        self.docker_service_prefix = docker_service_prefix
        self.backend = DockerBackend(docker_bin=docker_bin) if self.docker_composes else None
        self.database = {}
        self.config_parse_status = {}
        self.orphans = {}
        self.new_tags = {}
        self.docker_services = {}
        self._compose_services = {}
        self._compose_stamps = {}
        self._scf_instances = None
        self._problems = set()
        self._docker_error = None
        self._docker_dirty = True
        self.running = False
        self._stopping = False
        self._session = None
        self._wake = None
        self._loop_done = None
        reactor.addSystemEventTrigger('before', 'shutdown', self._on_shutdown)
        root = (getattr(agent, 'agent_address', None) or '').rsplit('.', 1)[0]
        if root and hasattr(agent, 'subscribe_on_start'):
            agent.subscribe_on_start(self._on_heartbeat, f'{root}..feeds.heartbeat',
                                     options={'match': 'wildcard', 'details_arg': 'details'})

    def _on_heartbeat(self, *args, details=None, **kwargs):
        """A child's heartbeat: it has joined the router."""
        topic = getattr(details, 'topic', None) or ''
        parts = topic.split('.')
        if len(parts) < 3:
            return
        iid = parts[-3]
        now = time.time()
        for inst in self.database.values():
            if inst.instance_id != iid or not inst.is_running:
                continue
            first = inst.joined_at is None
            inst.joined_at = now
            if first and inst.next_action == 'up':
                self._note(f"{inst.full_name} is up (joined the router)")

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------
    def _note(self, msg, level='info', session=None):
        getattr(self.log, level)(msg)
        for s in {id(x): x for x in (self._session, session) if x is not None}.values():
            s.add_message(msg)

    # ------------------------------------------------------------------
    # Config
    # ------------------------------------------------------------------
    def _site_namespace(self):
        a = self.site_args
        return types.SimpleNamespace(
            site=getattr(a, 'site', None), site_file=getattr(a, 'site_file', None),
            site_host=getattr(a, 'site_host', None), site_hub=None, site_http=None,
            site_realm=None, address_root=None, access_policy=None,
            instance_id=None)

    def _reload_config(self, session=None):
        """Re-read the Site Config File and the compose files; rebuild the
        table of children. On a bad file, keep what is running and report
        (config_parse_status, log, session messages)."""
        now = time.time()
        try:
            site, host, _ = site_config.get_config(self._site_namespace(), 'host')
        except site_config.SiteConfigError as e:
            self.config_parse_status[SCF_KEY] = (False, now, str(e))
            self._note(f"Site config not reloaded; keeping the current children. "
                       f"{e}", 'error', session)
            self._reparse_compose_files(force=True, session=session)
            if self._scf_instances is not None:
                self._rebuild_table(session)
            return False
        self._scf_instances = [dict(i) for i in host.instances]
        self.config_parse_status[SCF_KEY] = (
            True, now, f"{site.source_file}: host '{host.name}', "
                       f"{len(self._scf_instances)} agent instances")
        self._reparse_compose_files(force=True, session=session)
        self._rebuild_table(session)
        return True

    @staticmethod
    def _file_stamp(path):
        try:
            st = os.stat(path)
            return (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            return None

    def _reparse_compose_files(self, force=False, session=None):
        """Parse the compose files that changed; return True if any did.

        A file that changes while it is read (being written) is read again
        at the next poll, so half a file is never taken for the new one.
        """
        changed = False
        for path in self.docker_composes:
            stamp = self._file_stamp(path)
            if not force and stamp == self._compose_stamps.get(path, 'never'):
                continue
            now = time.time()
            try:
                services = docker_state.read_compose_file(path)
                error = None
            except docker_state.ComposeFileError as e:
                error = e
            if stamp is not None and self._file_stamp(path) != stamp:
                self._compose_stamps.pop(path, None)
                continue
            self._compose_stamps[path] = stamp
            if error is not None:
                self.config_parse_status[path] = (False, now, str(error))
                self._note(f"{error}; keeping the services parsed before", 'error', session)
                continue
            if services != self._compose_services.get(path):
                changed = True
            self._compose_services[path] = services
            self.config_parse_status[path] = (
                True, now, f"{len(services)} services: {', '.join(sorted(services))}")
        return changed

    def _all_compose_services(self):
        """Services of all compose files (first file wins), and problems."""
        out, problems = {}, []
        for path in self.docker_composes:
            for name, svc in self._compose_services.get(path, {}).items():
                if name in out:
                    problems.append(f"docker service '{name}' is defined in both "
                                    f"{out[name]['compose_file']} and {path}; "
                                    f"using the first")
                    continue
                out[name] = svc
        return out, problems

    def _rebuild_table(self, session=None):
        try:
            known = installed_agents()
            wanted = {i.get('agent-class') for i in self._scf_instances or []
                      if _host_managed(i)}
            unknown = sorted(c for c in wanted - set(known) if c)
            if unknown:
                # Installed after we started? Ask a fresh interpreter.
                known = installed_agents_now()
                found = sorted(c for c in unknown if c in known)
                if found:
                    self._note(f"newly installed agent classes found: {', '.join(found)}",
                               session=session)
        except Exception as e:          # a broken plugin must not stop us
            self._note(f"could not list installed agents: {e}", 'error', session)
            known = None
        services, problems = self._all_compose_services()
        table, more = instances.build_instance_table(
            self._scf_instances or [], services,
            prefix=self.docker_service_prefix, known_agents=known)
        problems += more
        for p in problems:
            if p not in self._problems:
                self._note(p, 'error', session)
        self._problems = set(problems)
        report = instances.merge_instance_table(self.database, table)
        for name in report['added']:
            inst = self.database[name]
            self._note(f"tracking {name} (target {inst.target_state})", session=session)
        for name in report['changed']:
            inst = self.database[name]
            self._note(f"{name}: manage is now {inst.manage}; target "
                       f"{inst.target_state}", session=session)
        for name in report['retired']:
            self._note(f"{name} left the config; stopping it", session=session)
        for name in report['removed']:
            self._note(f"{name} left the config; no longer tracked", session=session)
        self._docker_dirty = True

    # ------------------------------------------------------------------
    # Docker state
    # ------------------------------------------------------------------
    @inlineCallbacks
    def _refresh_docker(self):
        if self.backend is None:
            return
        if self._reparse_compose_files():
            self._rebuild_table()
        as_of = time.time()
        try:
            states, orphans = yield threads.deferToThread(
                self.backend.compose_state, dict(self._compose_services))
        except DockerError as e:
            if str(e) != self._docker_error:
                self._docker_error = str(e)
                self._note(f"cannot read docker state: {e}", 'error')
            return
        if self._docker_error:
            self._note("docker state readable again")
            self._docker_error = None
        self.docker_services = states
        self.orphans = orphans
        for inst in self.database.values():
            if inst.management != 'docker' or not inst.agent_script:
                continue
            st = states.get(inst.agent_script) or {
                'service': inst.agent_script, 'compose_file': inst.compose_file,
                'running': False, 'exit_code': docker_state.NO_CONTAINER_EXIT_CODE,
                'restart_required': False}
            if inst.prot is None:
                inst.prot = DockerContainerHelper(st, backend=self.backend,
                                                  on_done=self._docker_done)
            else:
                inst.prot.update(st, as_of=as_of)
            inst.restart_required = bool(st.get('restart_required'))
        self.new_tags = docker_state.new_tags(self.database, states)

    def _docker_done(self, helper):
        self._docker_dirty = True
        if helper.last_error:
            self._note(f"docker service {helper.service}: {helper.last_error}", 'error')
        self._wakeup()

    # ------------------------------------------------------------------
    # Children
    # ------------------------------------------------------------------
    def _child_command(self, inst):
        a = self.site_args
        cmd = agent_cli_command() + ['--instance-id', inst.instance_id]
        if getattr(a, 'site_file', None):
            cmd += ['--site-file', a.site_file]
        if getattr(a, 'site_host', None):
            cmd += ['--site-host', a.site_host]
        return cmd

    def _launch(self, inst):
        others = [o for o in self.database.values() if o is not inst
                  and o.instance_id == inst.instance_id and (o.is_running or o.busy)]
        if others:
            # Same instance-id still running under another description
            # (e.g. moved from host to docker): wait for it to stop.
            inst.next_action = 'start_at'
            inst.at = time.time() + 1.0
            return
        if inst.management == 'docker':
            if inst.prot is None:
                inst.prot = DockerContainerHelper(
                    {'service': inst.agent_script, 'compose_file': inst.compose_file},
                    backend=self.backend, on_done=self._docker_done)
            self._note(f"starting docker service {inst.agent_script} ({inst.full_name})")
            inst.prot.up()
            return
        if not isinstance(inst.prot, AgentProcessHelper):
            inst.prot = AgentProcessHelper(
                inst.instance_id, self._child_command(inst),
                cwd=getattr(self.site_args, 'working_dir', None),
                on_exit=lambda _h: self._wakeup())
        inst.prot.cmd = self._child_command(inst)
        inst.joined_at = None
        inst.prot.up()

    def _terminate(self, inst):
        if inst.prot is not None:
            inst.prot.down()

    def _children_busy(self):
        return [inst for inst in self.database.values()
                if not inst.passive_tracking and (inst.is_running or inst.busy)]

    # ------------------------------------------------------------------
    # The manager loop
    # ------------------------------------------------------------------
    def _wakeup(self, *_):
        d, self._wake = self._wake, None
        if d is not None and not d.called:
            d.callback(None)

    def _sleep(self, seconds):
        d = Deferred()
        self._wake = d
        call = reactor.callLater(max(0.0, seconds), self._wakeup)

        def cancel(result):
            if call.active():
                call.cancel()
            return result
        d.addBoth(cancel)
        return d

    def _publish(self, session):
        now = time.time()
        session.data = {
            'child_states': [inst.state_dict(now) for inst in self.database.values()],
            'config_parse_status': dict(self.config_parse_status),
            'orphans': dict(self.orphans),
            'new_tags': dict(self.new_tags),
        }

    @inlineCallbacks
    def _run_loop(self, session):
        next_docker = 0.0
        stop_deadline = None
        while True:
            now = time.time()
            if self.backend is not None and (self._docker_dirty or now >= next_docker):
                self._docker_dirty = False
                yield self._refresh_docker()
                next_docker = time.time() + DOCKER_POLL_S
            sleeps = [LOOP_MAX_SLEEP_S]
            for inst in list(self.database.values()):
                actions = resolve_child_state(inst)
                for msg in actions['messages']:
                    self._note(msg)
                try:
                    if actions['terminate']:
                        self._terminate(inst)
                    if actions['launch']:
                        self._launch(inst)
                except Exception as e:
                    self._note(f"could not {'stop' if actions['terminate'] else 'start'} "
                               f"{inst.full_name}: {e}", 'error')
                if actions['sleep'] is not None:
                    sleeps.append(actions['sleep'])
            for name in instances.drop_finished_retirees(self.database):
                self._note(f"{name} is down and no longer tracked")
            self._publish(session)
            if self._stopping:
                left = self._children_busy()
                if not left:
                    break
                if stop_deadline is None:
                    stop_deadline = time.time() + STOP_BOUND_S
                elif time.time() > stop_deadline:
                    self._note(f"giving up waiting for {', '.join(i.full_name for i in left)} "
                               f"to stop ({STOP_BOUND_S:g} s)", 'error')
                    break
            if self.backend is not None:
                sleeps.append(max(0.0, next_docker - time.time()))
            yield self._sleep(min(sleeps))

    # ------------------------------------------------------------------
    # Operations
    # ------------------------------------------------------------------
    @ocs_agent.param('requests', default=[], type=list)
    @ocs_agent.param('reload_config', default=True, type=bool)
    @inlineCallbacks
    def manager(self, session, params):
        """manager(requests=[], reload_config=True)

        **Process** - The "manager" Process maintains a list of child Agents
        for which it is responsible. In response to requests from a client,
        the Process will launch or terminate child Agents.

        Parameters:
            requests (list): List of agent instance target state requests;
                e.g. [('instance1', 'down')]. See description in
                :meth:`update` Task.
            reload_config (bool): When starting up, discard any cached
                database of tracked agents and rescan the Site Config File.
                This is mostly for debugging.

        Notes:
            If an Agent process exits unexpectedly, it will be relaunched
            within a few seconds; one that keeps failing is relaunched after
            growing delays (up to a minute) and reported unstable.

            When this Process is started (or restarted), the list of tracked
            agents and their status is completely reset, and the Site Config
            File is read in.

            Once this process is running, the target states for managed
            Agents can be manipulated through the :meth:`update` task.

            Note that when a stop is requested on this Process, all managed
            Agents will be moved to the "down" state and an attempt will be
            made to terminate them before the Process exits.

            The session.data is a dict, with entries:

            - 'child_states': list of managed Agent status, e.g.::

                [{'next_action': 'up', 'target_state': 'up',
                  'stability': 1.0, 'agent_class': 'FakeDataAgent',
                  'instance_id': 'faker1', 'management': 'host',
                  'restart_required': False, 'unstable': False}, ...]

              If you are looking for the "current state", it's called
              "next_action" here. The agent_class may include a suffix
              [d] or [d?], indicating that the agent is configured to run
              within a docker container ([d?]: the docker compose service
              was not found).
            - 'config_parse_status': dict, key a docker compose filename or
              "[SCF]" for the site config file, value (success, timestamp,
              message).
            - 'orphans': dict mapping docker container ID to information on
              containers of managed compose files whose service is gone.
            - 'new_tags': dict mapping instance_id to new docker image tag,
              for tracked instances whose tag docker does not know.
        """
        self.running = True
        self._stopping = False
        self._session = session
        self._loop_done = Deferred()
        try:
            session.set_status('running')
            if params['reload_config'] or self._scf_instances is None:
                for name, inst in list(self.database.items()):
                    if not (inst.is_running or inst.busy):
                        del self.database[name]
                self._problems = set()
                self._reload_config(session)
            if params['requests']:
                try:
                    self._apply_requests(params['requests'])
                except ValueError as e:
                    self._note(f"initial requests ignored: {e}", 'error')
            yield self._run_loop(session)
        finally:
            self.running = False
            self._session = None
            d, self._loop_done = self._loop_done, None
            d.callback(None)
        return True, 'Manager exited; children are down.'

    def _stop_manager(self, session, params):
        """Stop the manager: bring every child down (docker services in
        passive tracking are left running), then exit."""
        if not self.running:
            return False, 'The manager is not running.'
        self._stopping = True
        for inst in self.database.values():
            if inst.passive_tracking:
                inst.target_state = 'passive'
            else:
                inst.target_state = 'down'
        self._wakeup()
        return True, 'Stopping the manager: bringing children down.'

    def _wait_manager_done(self, bound=STOP_BOUND_S + 5.0):
        if self._loop_done is None:
            return succeed(None)
        d = Deferred()
        self._loop_done.addBoth(lambda r: d.called or d.callback(None))
        call = reactor.callLater(bound, lambda: d.called or d.callback(None))
        d.addBoth(lambda r: call.active() and call.cancel())
        return d

    def _apply_requests(self, requests):
        matched = instances.match_requests(self.database, requests)
        now = time.time()
        for targets, state in matched:
            for inst in targets:
                inst.target_state = state
                if state == 'up':
                    if inst.restart_required and inst.is_running:
                        inst.next_action = 'start_at'
                        inst.at = now
                    elif inst.next_action == 'start_at':
                        inst.at = min(inst.at, now)
        self._wakeup()
        return matched

    def _wants_unknown_class(self, requests):
        """True if a request brings up an instance that is not operable
        because no plugin provided its class (maybe one is installed now)."""
        try:
            matched = instances.match_requests(self.database, requests)
        except ValueError:
            return False
        return any(state == 'up' and not inst.operable and inst.management == 'host'
                   and 'installed plugin' in (inst.problem or '')
                   for targets, state in matched for inst in targets)

    @ocs_agent.param('requests', default=[], type=list)
    @ocs_agent.param('reload_config', default=False, type=bool)
    def update(self, session, params):
        """update(requests=[], reload_config=False)

        **Task** - Update the target state for any subset of the managed
        agent instances. Optionally, trigger a full reload of the Site Config
        File first.

        Parameters:
            requests (list): Default is []. Each entry must be a tuple of
                the form (instance_id, target_state). The instance_id must
                be a string that matches an item in the current list of
                tracked agent instances, or be the string 'all', which will
                match all items being tracked. The target_state must be 'up'
                or 'down'.
            reload_config (bool): Default is False. If True, the site config
                file and docker compose files are reparsed in order to
                (re-)populate the database of child Agent instances.

        Examples:
            ::

                update(requests=[('thermo1', 'down')])
                update(requests=[('all', 'up')])
                update(reload_config=True)

        Notes:
            Starting and stopping agent instances is handled by the
            :meth:`manager` Process; if that Process is not running then no
            action is taken by this Task and it will exit with an error.

            The entries in the ``requests`` list are processed in order. For
            example, if the requests were [('all', 'up'), ('data1',
            'down')]. This would result in setting all known children to
            have target_state "up", except for "data1" which would be given
            target state of "down".

            If ``reload_config`` is True, the Site Config File will be
            reloaded before any of the requests are processed.

            Managed docker compose files are reparsed, continuously, by the
            manager process; adding/changing the list of docker compose
            files requires restarting the agent.
        """
        if not self.running or self._stopping:
            return False, 'The manager Process is not running; no action taken.'
        if not params['reload_config'] and self._wants_unknown_class(params['requests']):
            session.add_message('an instance to start has an agent class no installed plugin '
                                'provided; rescanning the plugins and the site config')
            params = dict(params, reload_config=True)
        if params['reload_config']:
            ok = self._reload_config(session)
            if not ok:
                session.add_message('site config reload failed (see config_parse_status)')
        try:
            matched = self._apply_requests(params['requests'])
        except ValueError as e:
            return False, f'Bad request: {e}'
        done = [f"{len(t)} instance(s) -> {s}" for t, s in matched]
        if params['reload_config'] and not ok:
            return False, 'Site config reload failed; ' + (
                'requests applied: ' + '; '.join(done) if done else 'no requests')
        return True, 'Update requested' + (': ' + '; '.join(done) if done else '.')

    @ocs_agent.param('stop_time', default=10., type=float)
    def remove_orphans(self, session, params):
        """remove_orphans(stop_time=10.)

        **Task** - Use docker stop and docker rm to remove orphaned
        containers associated with managed docker compose files.

        Parameters:
            stop_time (float): Seconds docker waits for a container to stop
                before killing it.
        """
        if self.backend is None:
            return False, 'No docker compose files are managed by this HostManager.'
        try:
            _states, orphans = self.backend.compose_state(dict(self._compose_services))
        except DockerError as e:
            return False, f'Cannot read docker state: {e}'
        failed = []
        for cid, info in orphans.items():
            session.add_message(f"removing orphan container {cid[:12]} (service "
                                f"{info['service']} of {info['compose_file']})")
            try:
                self.backend.stop_and_remove(cid, stop_time=params['stop_time'])
            except DockerError as e:
                failed.append(cid[:12])
                session.add_message(f"could not remove {cid[:12]}: {e}")
        reactor.callFromThread(self._mark_docker_dirty)
        if failed:
            return False, f"Could not remove {len(failed)} of {len(orphans)} orphans: {failed}"
        return True, f"Removed {len(orphans)} orphan container(s)."

    def _mark_docker_dirty(self):
        self._docker_dirty = True
        self._wakeup()

    def docker_pull(self, session, params):
        """docker_pull()

        **Task** - Use docker compose to pull any (new) images for the
        managed docker compose files.
        """
        if self.backend is None:
            return False, 'No docker compose files are managed by this HostManager.'
        failed = []
        for path in self.docker_composes:
            session.add_message(f"pulling images of {path}")
            try:
                out = self.backend.pull(path)
                session.add_message(f"{path}: pulled. {out[-500:]}")
            except DockerError as e:
                failed.append(path)
                session.add_message(f"{path}: pull failed: {e}")
        reactor.callFromThread(self._mark_docker_dirty)
        if failed:
            return False, f"Pull failed for {', '.join(failed)} (see messages)."
        return True, f"Pulled images for {len(self.docker_composes)} compose file(s)."

    @ocs_agent.param('disown_dockers', default=False, type=bool)
    @inlineCallbacks
    def die(self, session, params):
        """die(disown_dockers=False)

        **Task** - trigger a shutdown of the manage process and then stop the
        reactor, causing the HostManager to exit.

        Parameters:
            disown_dockers (bool): If True, then all tracked docker services
                will be put in "passive tracking" mode, meaning that they
                will not be stopped and removed during this shutdown
                process. This can be used to restart HostManager without
                needing to also restart all (docker-based) agents on the
                system.
        """
        if params['disown_dockers']:
            for inst in self.database.values():
                if inst.management == 'docker':
                    inst.passive_tracking = True
                    inst.target_state = 'passive'
            session.add_message('docker services disowned: they keep running')
        if self.running:
            self._stop_manager(None, {})
            session.add_message('waiting for the manager to bring children down')
            yield self._wait_manager_done()
        reactor.callLater(1.0, reactor.stop)
        return True, 'This HostManager is exiting.'

    def _on_shutdown(self):
        """Before the reactor stops: bring children down (bounded)."""
        if not self.running:
            return None
        self._stop_manager(None, {})
        return self._wait_manager_done()


def make_parser(parser=None):
    """Add the HostManager's options to ``parser`` (or a new one)."""
    if parser is None:
        parser = argparse.ArgumentParser()
    pgroup = parser.add_argument_group('Agent Options')
    pgroup.add_argument('--docker-compose', action='append', default=None,
                        help='docker compose file(s) whose services to manage '
                             '(comma-separated; may be repeated).')
    pgroup.add_argument('--docker-service-prefix', default='ocs-',
                        help='Prefix of the docker service of a site config '
                             'instance: <prefix><instance-id> (default ocs-).')
    pgroup.add_argument('--docker-bin', default=None,
                        help='docker (or docker-compose) executable to use.')
    pgroup.add_argument('--docker-compose-bin', default=None,
                        help='docker-compose executable (ocs 0.12 name; '
                             '--docker-bin wins; ignored if it does not exist).')
    pgroup.add_argument('--idle', action='store_true',
                        help='Do not start the manager Process at start-up.')
    pgroup.add_argument('--initial-state', default=None, choices=['up', 'down'],
                        help='Bring every managed agent to this state at '
                             'start-up, whatever the site config says.')
    pgroup.add_argument('--quiet', action='store_true',
                        help='Send stdin, stdout and stderr to /dev/null (for '
                             'launching in the background; log files still '
                             'get everything).')
    return parser


def _docker_bin(args):
    """--docker-bin, else an existing --docker-compose-bin, else None."""
    if args.docker_bin:
        return args.docker_bin
    if args.docker_compose_bin and os.path.exists(args.docker_compose_bin):
        return os.path.abspath(args.docker_compose_bin)
    return None


def _silence_stdio():
    null = os.open(os.devnull, os.O_RDWR)
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        os.dup2(null, stream.fileno())
    os.close(null)


def manager_startup(args):
    """The manager Process's ``startup`` for register_process: False with
    --idle, its params with --initial-state, else True."""
    if args.idle:
        return False
    if args.initial_state:
        return {'requests': [['all', args.initial_state]]}
    return True


def _split_files(values):
    out = []
    for v in values or []:
        out += [p.strip() for p in str(v).split(',') if p.strip()]
    return out


def main(args=None):
    parser = make_parser()
    args = site_config.parse_args(agent_class='HostManager', parser=parser, args=args)
    if args.quiet:
        _silence_stdio()
    agent, runner = ocs_agent.init_site_agent(args)
    hm = HostManager(agent, docker_composes=_split_files(args.docker_compose),
                     docker_service_prefix=args.docker_service_prefix,
                     site_args=args, docker_bin=_docker_bin(args))
    agent.register_process('manager', hm.manager, hm._stop_manager,
                           blocking=False, startup=manager_startup(args))
    agent.register_task('update', hm.update, blocking=False)
    agent.register_task('remove_orphans', hm.remove_orphans, blocking=True)
    agent.register_task('docker_pull', hm.docker_pull, blocking=True)
    agent.register_task('die', hm.die, blocking=False)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
