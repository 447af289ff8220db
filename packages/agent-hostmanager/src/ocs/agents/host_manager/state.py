"""The HostManager's bookkeeping of one child: what it is, what is wanted of
it, and what to do next.

Pure logic: no Twisted, no processes, no docker. The thing that runs a child
(:class:`~ocs.agents.host_manager.process.AgentProcessHelper` or
:class:`~ocs.agents.host_manager.docker_helper.DockerContainerHelper`) sits
in :attr:`ManagedInstance.prot` and is only asked ``is_running``,
``exit_code`` and ``busy``.

States (``next_action``):

``down``
    Not running, and not wanted.
``start_at``
    Wanted up; will be launched at time ``at`` (immediately, or after a
    back-off following unexpected exits).
``wait_start``
    Launched; it must stay up until ``at`` to count as started.
``up``
    Running as wanted.
``wait_dead``
    Asked to stop; if still running at ``at``, it is asked again (the
    helpers then kill it).
"""
import dataclasses
import time
from typing import List, Optional

#: A child must stay up this long after a launch to count as started.
START_WINDOW_S = 3.0
#: After a stop request, seconds before asking again (helpers escalate).
STOP_WAIT_S = 5.0
#: Delay before the first relaunch after an unexpected exit.
RESTART_DELAY_S = 1.0
#: Longest back-off between relaunches of a child that keeps failing.
MAX_RESTART_DELAY_S = 60.0
#: Failures are remembered this long (seconds) for the stability factor.
STABILITY_WINDOW_S = 120.0
#: A child whose stability factor is below this is reported unstable.
UNSTABLE_BELOW = 0.15
#: A single failure this many seconds ago gives stability 0.5.
_HALF_POINT_S = 10.0

TARGET_STATES = ('up', 'down')
MANAGEMENT_MODES = ('host', 'docker', 'retired')


@dataclasses.dataclass
class ManagedInstance:
    """Tracks the properties of a managed Agent-instance, including how to
    launch it, the current run state, target state, etc.

    Attributes:
        management (str): How host is managed; either "host", "docker", or
            "retired".
        agent_class (str): Agent class name (which may include suffix "[d]"
            or "[d?]" for docker-managed instances; or simply "[docker]" for
            services that do not seem to be registered in the SCF).
        instance_id (str): The agent instance's instance_id, or else the
            docker service name associated with entry in the SCF.
        full_name (str): Identifier constructed as ``agent_class:instance_id``.
        operable (bool): Whether calls to up/down should be expected to work.
        retired (bool): Instance is retired and can be removed from tracking.
        passive_tracking (bool): Instance is "passively" managed: not
            enforced other than ephemerally to attempt a start / stop.
        agent_script (str): The docker service name, if docker-managed;
            otherwise ``__plugin__`` (host managed).
        prot (object): The ProcessProtocol (host) or DockerContainerHelper
            (docker) that runs the child.
        restart_required (bool): A restart is in order (docker image tag
            changed, or other new software version).
        target_state (str): The run state HostManager is trying to enforce
            (up, down, passive).
        next_action (str): What HostManager plans to do next; mirrors the
            current state (up or down) or a transition (``start_at``,
            ``wait_start``, ``wait_dead``).
        at (float): Unix time at which a transitional state acts next.
        fail_times (list): Unix times of recent unexpected stops.
        manage (str): The site config ``manage`` value it came from.
        compose_file (str): The docker compose file of a docker service.
        problem (str): Why the instance is not operable, if it is not.
        joined_at (float): Unix time the running child was last seen on the
            router (its heartbeat), None if not since its launch.
        launch_problem (str): Why the last launch failed (exit code and last
            output line), None after a good start.
        last_exit_code (int): Exit code of the last unexpected exit (kept
            while a relaunched child runs).
    """
    management: str
    agent_class: str
    instance_id: str
    full_name: str
    operable: bool = False
    retired: bool = False
    passive_tracking: bool = False
    agent_script: Optional[str] = None
    prot: Optional[object] = None
    restart_required: bool = False
    target_state: str = 'down'
    next_action: str = 'down'
    at: float = 0
    fail_times: List = dataclasses.field(default_factory=list)
    manage: Optional[str] = None
    compose_file: Optional[str] = None
    problem: Optional[str] = None
    joined_at: Optional[float] = None
    launch_problem: Optional[str] = None
    last_exit_code: Optional[int] = None

    @property
    def is_running(self):
        """True if the child is running (as its helper last saw it)."""
        return bool(self.prot is not None and self.prot.is_running)

    @property
    def exit_code(self):
        """The child's last exit code (None if running or never run)."""
        if self.prot is None:
            return None
        return getattr(self.prot, 'exit_code', None)

    @property
    def busy(self):
        """True while the helper is still carrying out a start or stop."""
        return bool(self.prot is not None and getattr(self.prot, 'busy', False))

    def stability(self, now=None):
        """The stability factor (0-1) from the recent failures."""
        return stability_factor(self.fail_times, now=now)[1]

    def state_dict(self, now=None):
        """The ``child_states`` entry for this instance."""
        stab = self.stability(now)
        return {
            'next_action': self.next_action,
            'target_state': self.target_state,
            'stability': round(stab, 3),
            'agent_class': self.agent_class,
            'instance_id': self.instance_id,
            'management': self.management,
            'restart_required': bool(self.restart_required),
            'unstable': stab < UNSTABLE_BELOW,
            'joined': self.joined_at is not None,
            'restarts': len(stability_factor(self.fail_times, now=now)[0]),
            'exit_code': self.exit_code if self.exit_code is not None else self.last_exit_code,
            'problem': self.problem or self.launch_problem,
        }


def stability_factor(times, window=STABILITY_WINDOW_S, now=None):
    """Given an increasing list of failure times, quantify the stability of
    the activity.

    A single failure, 10 seconds in the past, has a stability factor of 0.5;
    if there were additional failures before that, the stability factor will
    be lower.

    Each failure ``dt`` seconds old weighs ``w = 0.5 (window - dt) /
    (window - 10)`` (clipped to 0..1): 0.5 at 10 s, fading to 0 at
    ``window``. The factor is the product of ``1 - w`` over the failures.

    Args:
        times (list of float): Unix times of failures.
        window (float): Failures older than this (seconds) are dropped.
            Must exceed 10.
        now (float, optional): The current time (default: time.time()).

    Returns:
        A culled list of stop times and a stability factor (0 - 1).
    """
    if window <= _HALF_POINT_S:
        raise ValueError(f"window={window!r}: must be more than {_HALF_POINT_S:g} s")
    if now is None:
        now = time.time()
    culled = [t for t in times if now - t < window]
    factor = 1.0
    for t in culled:
        dt = max(0.0, now - t)
        w = 0.5 * (window - dt) / (window - _HALF_POINT_S)
        factor *= 1.0 - min(1.0, max(0.0, w))
    return culled, factor


def restart_delay(n_failures):
    """Seconds to wait before relaunching after ``n_failures`` recent failures.

    1 s after the first, doubling with each further one, at most
    :data:`MAX_RESTART_DELAY_S`.
    """
    if n_failures <= 0:
        return 0.0
    return min(MAX_RESTART_DELAY_S, RESTART_DELAY_S * 2 ** (n_failures - 1))


def _actions():
    return {'messages': [], 'launch': False, 'terminate': False, 'sleep': None}


def _sleep(actions, seconds):
    seconds = max(0.0, seconds)
    if actions['sleep'] is None or seconds < actions['sleep']:
        actions['sleep'] = seconds


def _describe_exit(minst):
    code = minst.exit_code
    return f" (exit code {code})" if code is not None else ''


def _last_line(minst):
    tail = getattr(minst.prot, 'tail', None)
    lines = [ln for ln in (tail() if callable(tail) else []) if ln.strip()]
    return lines[-1].strip()[:300] if lines else ''


def _record_failure(minst, now, actions, what):
    last = _last_line(minst)
    minst.launch_problem = f"{what}{_describe_exit(minst)}" + (f": {last}" if last else '')
    minst.last_exit_code = minst.exit_code
    minst.joined_at = None
    minst.fail_times.append(now)
    minst.fail_times, stab = stability_factor(minst.fail_times, now=now)
    delay = restart_delay(len(minst.fail_times))
    msg = (f"{minst.full_name} {what}{_describe_exit(minst)}; relaunching in "
           f"{delay:g} s")
    if stab < UNSTABLE_BELOW:
        msg += (f"; it is unstable ({len(minst.fail_times)} failures in the "
                f"last {STABILITY_WINDOW_S:g} s, stability {stab:.2f})")
    actions['messages'].append(msg)
    minst.next_action = 'start_at'
    minst.at = now + delay
    _sleep(actions, delay)


def _resolve_passive(minst, now, actions):
    """Passive tracking: reflect the observed state, enforce nothing."""
    if minst.busy:
        _sleep(actions, 0.5)
        return actions
    minst.next_action = 'up' if minst.is_running else 'down'
    return actions


def resolve_child_state(minst, now=None):
    """Advance an instance's state machine by one step.

    Args:
        minst (ManagedInstance): the instance state information. This will
            be modified in place.
        now (float, optional): The current time (default: time.time()).

    Returns:
        Dict with important actions for caller to take. Content is:

        - 'messages' (list of str): messages for the session.
        - 'launch' (bool): whether to launch a new instance.
        - 'terminate' (bool): whether to terminate the instance.
        - 'sleep' (float): maximum delay before checking back, or None if
          this machine doesn't care.
    """
    if now is None:
        now = time.time()
    actions = _actions()
    running = minst.is_running

    if minst.retired or minst.management == 'retired':
        minst.target_state = 'down'
    if minst.target_state == 'passive':
        return _resolve_passive(minst, now, actions)
    if not minst.operable and not running:
        # Nothing can be done for it (unknown class, docker service not
        # found); it is shown, and left alone.
        minst.next_action = 'down'
        return actions

    if minst.busy:
        # A start or stop is still being carried out (docker compose).
        if minst.next_action == 'wait_start':
            minst.at = max(minst.at, now + START_WINDOW_S)
        _sleep(actions, 0.5)
        return actions

    if minst.target_state == 'up':
        na = minst.next_action
        if na == 'up':
            if running:
                if minst.passive_tracking:
                    minst.target_state = 'passive'
                return actions
            if minst.passive_tracking:
                actions['messages'].append(f"{minst.full_name} stopped{_describe_exit(minst)}")
                minst.target_state = 'passive'
                minst.next_action = 'down'
                return actions
            _record_failure(minst, now, actions, 'exited unexpectedly')
            return actions
        if na == 'wait_start':
            if not running:
                if minst.passive_tracking:
                    actions['messages'].append(
                        f"{minst.full_name} did not start{_describe_exit(minst)}")
                    minst.target_state = 'passive'
                    minst.next_action = 'down'
                    return actions
                _record_failure(minst, now, actions, 'exited while starting')
                return actions
            if now >= minst.at:
                minst.next_action = 'up'
                minst.launch_problem = None
                if minst.joined_at is not None or minst.management != 'host':
                    actions['messages'].append(f"{minst.full_name} is up")
                else:
                    actions['messages'].append(
                        f"{minst.full_name} launched (running {START_WINDOW_S:g} s); "
                        f"up once it joins the router")
                if minst.passive_tracking:
                    minst.target_state = 'passive'
            else:
                _sleep(actions, minst.at - now)
            return actions
        if na == 'wait_dead' and running:
            # Still going down; bring it up once it has stopped.
            return _wait_dead(minst, now, actions)
        if na in ('down', 'wait_dead'):
            if running:
                # Found running (e.g. a docker service started elsewhere).
                minst.next_action = 'up'
                return actions
            minst.next_action = 'start_at'
            minst.at = now
            na = 'start_at'
        if na == 'start_at':
            if now >= minst.at:
                if running and not minst.restart_required:
                    minst.next_action = 'up'
                    if minst.passive_tracking:
                        minst.target_state = 'passive'
                    return actions
                actions['launch'] = True
                minst.next_action = 'wait_start'
                minst.at = now + START_WINDOW_S
                _sleep(actions, START_WINDOW_S)
            else:
                _sleep(actions, minst.at - now)
        return actions

    # target_state 'down'
    if not running:
        if minst.next_action != 'down':
            if minst.next_action in ('wait_dead', 'up', 'wait_start'):
                actions['messages'].append(f"{minst.full_name} is down")
            minst.next_action = 'down'
        if minst.passive_tracking:
            minst.target_state = 'passive'
        return actions
    if minst.next_action != 'wait_dead':
        actions['terminate'] = True
        actions['messages'].append(f"requesting termination of {minst.full_name}")
        minst.next_action = 'wait_dead'
        minst.at = now + STOP_WAIT_S
        _sleep(actions, STOP_WAIT_S)
        return actions
    return _wait_dead(minst, now, actions)


def _wait_dead(minst, now, actions):
    if now >= minst.at:
        actions['terminate'] = True
        actions['messages'].append(
            f"{minst.full_name} still running {STOP_WAIT_S:g} s after the stop "
            f"request; asking again (forcing)")
        minst.at = now + STOP_WAIT_S
        _sleep(actions, STOP_WAIT_S)
    else:
        _sleep(actions, minst.at - now)
    return actions
