"""AccessDirector: distributes access rules and exclusive access grants.

Agents started with ``--access-policy director:<instance_id>`` subscribe to
this agent's ``controls`` feed and call its ``agent_poll`` special access
point; clients call ``request_exclusive`` (see
:class:`ocs.access.ExclusiveAccessClient`). The bookkeeping lives in
:mod:`ocs.agents.access_director.drivers`.
"""
import argparse
import os
import time

from autobahn.wamp.exception import ApplicationError
from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.task import deferLater

from ocs import ocs_agent, site_config
from ocs.access import AccessConfigError, FailedAttemptThrottle, \
    load_director_config
from ocs.agents.access_director.drivers import (DEFAULT_MAX_GRANT_TIME,
                                                AccessGrant, DirectorState)
from ocs import access  # noqa: F401,E402  (0.12 offers it here)

__all__ = ['AccessDirector', 'AccessGrant', 'make_parser', 'main']

#: Seconds between full re-broadcasts of the rules (protocol: <= 60).
DEFAULT_REBROADCAST_INTERVAL = 30.
#: Longest idle sleep of the manager loop (seconds).
MAX_IDLE = 1.0


def resolve_config_path(path):
    """An absolute path, a path that exists from here, or a path relative
    to ``$OCS_CONFIG_DIR``."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    base = os.environ.get('OCS_CONFIG_DIR')
    return os.path.join(base, path) if base else path


class AccessDirector:
    """Agent for distributing Access Control information to all Agents in a
    system.

    Args:
        agent (OCSAgent): The agent from :func:`ocs.ocs_agent.init_site_agent`.
        config_file (str): The Access Configuration File (YAML; see
            :mod:`ocs.access.director`).
        max_grant_time (float): Longest exclusive grant handed out (s).
        rebroadcast_interval (float): Seconds between full re-broadcasts of
            the rules (at most 60).
    """

    def __init__(self, agent, config_file,
                 max_grant_time=DEFAULT_MAX_GRANT_TIME,
                 rebroadcast_interval=DEFAULT_REBROADCAST_INTERVAL):
        if not 0 < rebroadcast_interval <= 60:
            raise ValueError(f'rebroadcast_interval={rebroadcast_interval!r} '
                             'must be in (0, 60] seconds')
        self.agent = agent
        self.log = agent.log
        self.config_file = resolve_config_path(config_file)
        self.rebroadcast_interval = float(rebroadcast_interval)
        self.state = DirectorState(max_grant_time=max_grant_time)
        self.throttle = FailedAttemptThrottle()
        self.config_error = None
        self._manager_running = False
        self._manager_session = None
        self._wake_d = None
        self._last_broadcast = None
        agent.register_feed('controls', record=False, max_messages=4)
        agent.add_startup_hook(self._on_join)
        self._load_config()

    # -- configuration ---------------------------------------------------
    def _load_config(self):
        try:
            parsed = load_director_config(self.config_file)
        except AccessConfigError as e:
            self.config_error = str(e)
            if self.state.configured:
                self.log.error('access config not reloaded, keeping the '
                               'previous one: {err}', err=str(e))
            else:
                self.log.error('no valid access config; nothing will be '
                               'distributed until reload_config succeeds: '
                               '{err}', err=str(e))
            return False, f'Config not loaded: {e}'
        dropped = self.state.set_config(parsed)
        self.config_error = None
        for name in dropped:
            self.log.warn('grant {name} dropped: its block is no longer in '
                          'the config', name=name)
        msg = (f'Loaded {self.config_file}: {len(parsed["_rules"])} password '
               f'rules, {len(parsed["_grant_blocks"])} grant blocks.')
        self.log.info(msg)
        return True, msg

    # -- WAMP ------------------------------------------------------------
    @inlineCallbacks
    def _on_join(self, agent):
        """Register the special access points (after every join) and send
        the rules again."""
        base = agent.agent_address
        try:
            yield agent.register(self.agent_poll, f'{base}.agent_poll')
            yield agent.register(self.request_exclusive,
                                 f'{base}.request_exclusive')
        except ApplicationError as e:
            self.log.critical('could not register the special access points '
                              'at {base}.agent_poll / .request_exclusive: '
                              '{err}; agents will only get the periodic '
                              'broadcasts', base=base, err=e.error)
        self.log.info('special access points registered at {base}.agent_poll '
                      'and {base}.request_exclusive', base=base)
        self.state.dirty = True
        self._service()

    def _publish(self, message):
        self.agent.publish_to_feed('controls', message)

    def _service(self):
        """Expire grants, publish what is due; reactor thread only."""
        if not self._manager_running:
            return
        now = time.time()
        for name in self.state.expire(now):
            self.log.info('grant {name} expired', name=name)
        msg = self.state.take_broadcast()
        if msg is None and self.state.configured and (
                self._last_broadcast is None or
                now - self._last_broadcast >= self.rebroadcast_interval):
            msg = self.state.reset_message()
        if msg is not None:
            self._publish(msg)
            self._last_broadcast = now
        for m in self.state.take_polls():
            self._publish(m)
        if self._manager_session is not None:
            self._manager_session.data = self._session_data()

    def _session_data(self):
        data = self.state.session_data()
        data['config_file'] = self.config_file
        data['config_error'] = self.config_error
        data['last_broadcast'] = self._last_broadcast
        return data

    def _wake(self):
        d, self._wake_d = self._wake_d, None
        if d is not None and not d.called:
            d.callback(None)

    def _sleep(self, seconds):
        d = Deferred()
        call = reactor.callLater(max(seconds, 0.01),
                                 lambda: d.called or d.callback(None))

        def cancel(result):
            if call.active():
                call.cancel()
            return result
        d.addBoth(cancel)
        self._wake_d = d
        return d

    def _idle_time(self):
        now = time.time()
        wait = MAX_IDLE
        if self._last_broadcast is not None:
            wait = min(wait, self._last_broadcast + self.rebroadcast_interval
                       - now)
        nxt = self.state.next_expiry()
        if nxt is not None:
            wait = min(wait, nxt - now)
        return max(wait, 0.01)

    # -- Operations ------------------------------------------------------
    @inlineCallbacks
    def manager(self, session, params):
        """manager()

        **Process** - Update the main access control feed with new access
        information. This occurs in response to agent queries, or if new
        grants require updates to access. The full set of rules is also
        re-sent every ``rebroadcast_interval`` seconds.

        Notes:
            The session.data encodes information about any active exclusive
            grants. The entry for ``grants`` contains a list of
            :class:`AccessGrant` entries. It looks like this::

                'grants': [
                  {"name": "fake-subsystem",
                   "expire_at": 1771356419.8087718,
                   "grantee": "test-grant.py",
                   "rules": [
                     {"hashed_pass": {"hash": "md5",
                                      "value": "03ba0072e0d32376"},
                      "cred_level": 2,
                      "scope_spec": {"default": false,
                                     "agent_class": "FakeDataAgent",
                                     "instance_id": null},
                      "lockout_id": "fake-subsystem",
                      "lockout_owner": "test-grant.py",
                      "lockout_levels": [2, 3]}]}]

            It also has ``step``, ``config_file``, ``config_error`` (None
            or why the config could not be loaded) and ``last_broadcast``.
        """
        session.set_status('running')
        self._manager_running = True
        self._manager_session = session
        self.state.dirty = True
        try:
            while self._manager_running:
                self._service()
                yield self._sleep(self._idle_time())
        finally:
            self._manager_running = False
            self._manager_session = None
        return True, 'Manager exited.'

    def _stop_manager(self, session, params):
        if not self._manager_running:
            return False, 'manager is not running.'
        self._manager_running = False
        self._wake()
        return True, 'Stopping manager.'

    def reload_config(self, session, params):
        """reload_config()

        **Task** - Reload access config file. On error the previous config
        stays in force and the message names the file and entry.
        """
        ok, msg = self._load_config()
        if ok:
            self._service()
        return ok, msg

    # -- special access points ----------------------------------------
    def agent_poll(self, instance_id=None, agent_class=None):
        """Special access point. This is used for agents to request an
        announcement of their password rules on the control feed. The
        instance_id and agent_class arguments must both be specified (and
        not None). Returns True if arguments are sufficiently valid and
        request was slated; otherwise False (also when the manager Process
        is not running)."""
        if not self._manager_running:
            self.log.warn('agent_poll from {i} while the manager is not '
                          'running', i=instance_id)
            return False
        if not self.state.poll(instance_id, agent_class):
            return False
        self._service()
        return True

    def request_exclusive(self, grant_name=None, password=None, action=None,
                          expire_at=None, grantee=None, strict=None):
        """Special access point. Request, renew, or release an exclusive
        access grant.

        Parameters:
            grant_name (str): Name of the grant, to match an entry in the
                "exclusive_access_blocks" section of the config file.
            password (str): The password, to be checked against the
                password specified in the grant block of the config.
            action (str): One of "acquire", "renew" or "release".
            expire_at (float): Unix timestamp for the desired expiry time
                of the grant.
            grantee (str): A string representing the client that has
                requested the lock. When passed with "acquire", it is stored
                for distribution to clients so they can explain who has
                locked them out.
            strict (bool): If True, reject all requests except acquire when
                a grant is inactive, renew when a grant is active, and
                release when a grant is active.

        Returns:
            A dict with useful info. On error, the dict has only an entry
            "error" with an error message in it. On success, the returned
            dict has at least the items 'grant_name' and 'message' ("grant
            acquired" / "grant renewed" / "grant released") and the 'step'
            at which this event took effect. For 'acquire' or 'renew' it
            has 'expire_at' (never later than requested); for 'acquire' it
            has 'password', the password that gives access to the grant's
            targets while the grant lasts. A wrong password is answered
            after a delay that grows with repeated failures.
        """
        if not self._manager_running:
            return {'error': 'The Access Director manager Process is not '
                             'running, so grants cannot be distributed.'}
        resp, bad_password = self.state.handle_request(
            grant_name, password, action, expire_at, grantee, strict)
        if bad_password:
            delay = self.throttle.failure(str(grant_name))
            self.log.warn('wrong password for grant {g} ({a}); answering in '
                          '{d:.1f} s', g=grant_name, a=action, d=delay)
            if delay > 0:
                return deferLater(reactor, delay, lambda: resp)
            return resp
        if 'error' in resp:
            self.log.info('request_exclusive {a} {g} refused: {e}',
                          a=action, g=grant_name, e=resp['error'])
            return resp
        self.log.info('{msg}: {g} for {who} (step {step})', msg=resp[
            'message'], g=grant_name, who=grantee, step=resp['step'])
        self._service()
        return resp


def make_parser(parser=None):
    """Add the AccessDirector's options to ``parser`` (or a new parser)."""
    if parser is None:
        parser = argparse.ArgumentParser()
    pgroup = parser.add_argument_group('Agent Options')
    pgroup.add_argument('--config-file', default=None,
                        help='Access Configuration File (YAML); a relative '
                        'path is also looked up in $OCS_CONFIG_DIR.')
    pgroup.add_argument('--max-grant-time', type=float,
                        default=DEFAULT_MAX_GRANT_TIME,
                        help='Longest exclusive grant handed out (seconds).')
    pgroup.add_argument('--rebroadcast-interval', type=float,
                        default=DEFAULT_REBROADCAST_INTERVAL,
                        help='Seconds between full re-broadcasts of the '
                        'rules (at most 60).')
    return parser


def main(args=None):
    parser = make_parser()
    args = site_config.parse_args(agent_class='AccessDirector', parser=parser,
                                  args=args)
    if not args.config_file:
        parser.error('--config-file is required (the Access Configuration '
                     'File), on the command line or in the instance '
                     'arguments of the site config')
    if not 0 < args.rebroadcast_interval <= 60:
        parser.error(f'--rebroadcast-interval {args.rebroadcast_interval:g} '
                     'must be in (0, 60] seconds')
    if not args.max_grant_time > 0:
        parser.error(f'--max-grant-time {args.max_grant_time:g} must be > 0')
    agent, runner = ocs_agent.init_site_agent(args)
    director = AccessDirector(agent, args.config_file,
                              max_grant_time=args.max_grant_time,
                              rebroadcast_interval=args.rebroadcast_interval)
    agent.register_process('manager', director.manager,
                           director._stop_manager, blocking=False,
                           startup=True)
    agent.register_task('reload_config', director.reload_config,
                        blocking=False)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
