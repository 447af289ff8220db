"""FakeDataAgent: publishes fake housekeeping data, for tests and demos."""
import argparse
import threading
import time

from twisted.internet.defer import inlineCallbacks
from autobahn.twisted.util import sleep as dsleep

from ocs import ocs_agent, site_config
from ocs.ocs_twisted import Pacemaker
from ocs.agents.fake_data.drivers import RandomWalk, SampleClock
from ocs import ocs_feed  # noqa: F401,E402  (0.12 offers it here)

#: How often the acq loop wakes up to publish the samples that are due.
MAX_TICK_HZ = 10.


#: Seconds into a run of acq at which a simulated dropout happens.
DROPOUT_AFTER_S = 1.0


class DeviceDropout(RuntimeError):
    """The (simulated) device stopped answering."""


class FakeDataAgent:
    """Generates fake data on a recorded feed and offers example Operations.

    Args:
        agent (OCSAgent): The agent from :func:`ocs.ocs_agent.init_site_agent`.
        num_channels (int): Number of channels (``channel_00`` ...).
        sample_rate (float): Samples per second on every channel.
        frame_length (float): Seconds of data per frame for the Aggregator.
    """

    def __init__(self, agent, num_channels=2, sample_rate=10., frame_length=60):
        self.agent = agent
        self.log = agent.log
        self.lock = threading.Semaphore()
        #: Runs of acq still to fail with a simulated dropout (-1: all).
        self.dropouts = 0
        self.job = None
        self.num_channels = num_channels
        self.sample_rate = max(float(sample_rate), 1e-6)
        self.frame_length = frame_length
        self._acq_stop = threading.Event()
        self._count_running = False
        self._delay_abort = False
        agent.register_feed('false_temperatures', record=True,
                            agg_params={'frame_length': frame_length},
                            buffer_time=1.)

    # -- a simple job lock shared by Operations that must not overlap -------
    def try_set_job(self, job_name):
        """Claim the agent for ``job_name``; returns (ok, holder)."""
        with self.lock:
            if self.job is None:
                self.job = job_name
                return True, 'ok.'
            return False, f'Conflict: "{self.job}" is already running.'

    def set_job_done(self):
        """Release the claim made by :meth:`try_set_job`."""
        with self.lock:
            self.job = None

    # -- Processes ----------------------------------------------------------
    @ocs_agent.param('test_mode', default=False, type=bool)
    @ocs_agent.param('degradation_period', default=None, type=float)
    def acq(self, session, params):
        """acq(test_mode=False, degradation_period=None)

        **Process** - Acquire data and write to the feed.

        Parameters:
            test_mode (bool, optional): Run the acq Process loop only once.
                This is meant only for testing. Default is False.
            degradation_period (float, optional): If set, then alternately
                mark self as degraded / not degraded with this period (in
                seconds).

        Notes:
            The most recent fake values are stored in the session data object
            in the format::

                >>> response.session['data']
                {"fields": {"channel_00": 0.1025, "channel_01": 0.0855},
                 "timestamp": 1600448753.9288929}
        """
        ok, msg = self.try_set_job('acq')
        if not ok:
            return ok, msg
        try:
            return self._acquire(session, params)
        finally:
            self.set_job_done()

    def _acquire(self, session, params):
        session.set_status('running')
        self._acq_stop.clear()
        walk = RandomWalk(self.num_channels)
        clock = SampleClock(self.sample_rate, time.time())
        pace = Pacemaker(min(self.sample_rate, MAX_TICK_HZ))
        period = params['degradation_period']
        next_toggle = time.time() + period if period else None
        clock_start = time.time()
        while not self._acq_stop.is_set():
            pace.sleep()
            now = time.time()
            if next_toggle is not None and now >= next_toggle:
                session.degraded = not session.degraded
                next_toggle += period
            timestamps = clock.due(now)
            if not timestamps:
                continue
            data = walk.sample(len(timestamps))
            self.agent.publish_to_feed('false_temperatures', {
                'block_name': 'temps', 'timestamps': timestamps, 'data': data})
            restarts = (session.data or {}).get('restarts')     # a supervisor's count
            session.data = {'fields': walk.latest(), 'timestamp': timestamps[-1]}
            if restarts is not None:
                session.data['restarts'] = restarts
            if params['test_mode']:
                break
            if self.dropouts and now - clock_start >= DROPOUT_AFTER_S:
                self.dropouts -= 1 if self.dropouts > 0 else 0
                raise DeviceDropout('fake device dropped out (--dropouts)')
        return True, 'Acquisition exited cleanly.'

    def _stop_acq(self, session, params):
        if self._acq_stop.is_set() or self.job != 'acq':
            return False, 'acq is not running.'
        self._acq_stop.set()
        return True, 'Stopping acq.'

    @inlineCallbacks
    def count_seconds(self, session, params):
        """count_seconds()

        **Process** - Count seconds since the Process started, in the reactor.
        ``session.data`` holds ``{'counter': n, 'last_updated': t}``.
        """
        session.set_status('running')
        self._count_running = True
        start = time.time()
        session.data = {'counter': 0, 'last_updated': start}
        while self._count_running:
            yield dsleep(max(0., start + session.data['counter'] + 1 - time.time()))
            session.data = {'counter': session.data['counter'] + 1,
                            'last_updated': time.time()}
        return True, 'Exited on request.'

    def _stop_count(self, session, params):
        if not self._count_running:
            return False, 'count is not running.'
        self._count_running = False
        return True, 'Stopping count.'

    # -- Tasks --------------------------------------------------------------
    @ocs_agent.param('heartbeat', default=True, type=bool)
    def set_heartbeat(self, session, params):
        """set_heartbeat(heartbeat=True)

        **Task** - Set the state of the agent heartbeat.

        Parameters:
            heartbeat (bool, optional): True for on (the default), False for off.
        """
        self.agent._heartbeat_on = params['heartbeat']
        state = 'on' if params['heartbeat'] else 'off'
        self.log.info('heartbeat is now {state}', state=state)
        return True, f'Heartbeat set to {state}.'

    @ocs_agent.param('delay', default=5., type=float, check=lambda d: d >= 0)
    @ocs_agent.param('succeed', default=True, type=bool)
    @inlineCallbacks
    def delay_task(self, session, params):
        """delay_task(delay=5, succeed=True)

        **Task** (abortable) - Sleep (delay) for the requested number of
        seconds. This can run simultaneously with the acq Process. This Task
        runs in the reactor thread.

        Parameters:
            delay (float, optional): Time to wait before returning, in
                seconds. Defaults to 5.
            succeed (bool, optional): Whether to return success or not.
                Defaults to True.

        Notes:
            The session data will be updated with the requested delay as
            well as the time elapsed so far, for example::

                >>> response.session['data']
                {'requested_delay': 5., 'delay_so_far': 1.2}
        """
        delay = params['delay']
        session.set_status('running')
        self._delay_abort = False
        start = time.time()
        session.data = {'requested_delay': delay, 'delay_so_far': 0.}
        while True:
            elapsed = time.time() - start
            session.data['delay_so_far'] = elapsed
            if self._delay_abort:
                return False, 'Aborted after %.1f seconds.' % elapsed
            if elapsed >= delay:
                break
            yield dsleep(min(0.1, delay - elapsed))
        session.data['delay_so_far'] = time.time() - start
        if params['succeed']:
            return True, 'Exited after %.1f seconds.' % session.data['delay_so_far']
        return False, 'Failed after %.1f seconds, as requested.' % session.data['delay_so_far']

    def _abort_delay_task(self, session, params):
        session.set_status('stopping')
        self._delay_abort = True
        return True, 'Abort requested.'


def add_agent_args(parser_in=None):
    """Add FakeDataAgent's options to ``parser_in`` (or a new parser)."""
    if parser_in is None:
        parser_in = argparse.ArgumentParser()
    pgroup = parser_in.add_argument_group('Agent Options')
    pgroup.add_argument('--mode', default='acq', choices=['idle', 'acq'],
                        help="'acq' starts the acq Process at start-up.")
    pgroup.add_argument('--num-channels', default=2, type=int,
                        help='Number of fake channels.')
    pgroup.add_argument('--sample-rate', default=9.5, type=float,
                        help='Samples per second on each channel.')
    pgroup.add_argument('--frame-length', default=60, type=int,
                        help='Seconds of data per frame for the Aggregator.')
    pgroup.add_argument('--acq-restart', default=None,
                        help="Restart policy of acq when it fails: 'never' (default), "
                             "'on-failure' or 'on-failure:max_restarts=3,backoff=0.5,"
                             "backoff_max=60,window=600,stable_after=60'.")
    pgroup.add_argument('--dropouts', default=0, type=int,
                        help='Simulate a device that drops out: the first N runs of acq '
                             'fail after about 1 s (-1: every run). Default 0.')
    return parser_in


def main(args=None):
    parser = add_agent_args()
    args = site_config.parse_args(agent_class='FakeDataAgent', parser=parser, args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    fake = FakeDataAgent(agent, num_channels=args.num_channels,
                         sample_rate=args.sample_rate, frame_length=args.frame_length)
    fake.dropouts = args.dropouts
    agent.register_process('acq', fake.acq, fake._stop_acq,
                           startup=(args.mode == 'acq'), restart=args.acq_restart)
    agent.register_process('count', fake.count_seconds, fake._stop_count,
                           blocking=False)
    agent.register_task('set_heartbeat', fake.set_heartbeat)
    # Under an access policy delay_task needs credential level 2 (as in ocs 0.12).
    no_policy = getattr(args, 'access_policy', None) in (None, 'none', '')
    agent.register_task('delay_task', fake.delay_task, blocking=False,
                        aborter=fake._abort_delay_task, min_privs=1 if no_policy else 2)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
