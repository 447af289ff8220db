"""BarebonesAgent: the smallest useful agent, in the layout ``ocs-new-agent``
generates.

Read this file top to bottom when writing a new agent: it shows a Process
paced by a Pacemaker, a Task, parameter checking, a lock taken for each
reading of the hardware (``drivers.py``, handed in so tests can give their
own), session.data and a recorded feed.
"""
import argparse
import time

from ocs import ocs_agent, site_config
from ocs.ocs_twisted import Pacemaker, TimeoutLock

from ocs.agents.barebones.drivers import Counter


class BarebonesAgent:
    """Barebone Agent demonstrating writing an Agent from scratch.

    Args:
        agent (OCSAgent): OCSAgent object from
            :func:`ocs.ocs_agent.init_site_agent`.
        device (Counter): The hardware driver; a new Counter by default.
        rate (float): Counts per second in ``count``.

    Attributes:
        agent (OCSAgent): The agent, used to publish to feeds.
        log (txaio.tx.Logger): Logger for events within the Agent.
        lock (TimeoutLock): Keeps two Operations from talking to the
            hardware at once; held for one reading at a time.
    """

    def __init__(self, agent, device=None, rate=1.):
        self.agent = agent
        self.log = agent.log
        self.device = Counter() if device is None else device
        self.rate = rate
        self.lock = TimeoutLock(default_timeout=5)
        self._count = False
        # A recorded feed is saved by the Aggregator and sent to InfluxDB.
        # buffer_time=1 sends one message a second however fast we sample.
        agent.register_feed('feed_name', record=True,
                            agg_params={'frame_length': 10 * 60}, buffer_time=1.)

    # @param checks the parameters when the start request arrives, so a bad
    # value is refused at once, before the Operation runs.
    @ocs_agent.param('test_mode', default=False, type=bool)
    def count(self, session, params):
        """count(test_mode=False)

        **Process** - Count up from 0.

        The count will restart if the process is stopped and restarted.

        Notes:
            The most recent value is stored in the session data object in
            the format::

                >>> response.session['data']
                {"value": 0, "timestamp":1600448753.9288929}
        """
        # The Pacemaker keeps the rate however long a reading takes.
        pace = Pacemaker(self.rate)
        self._count = True
        self.device.reset()
        # Tell clients the Process has done its checks and is running.
        session.set_status('running')
        while self._count:
            pace.sleep()
            # The lock is held for one reading only, so a Task can use the
            # hardware between two counts.
            with self.lock.acquire_timeout(timeout=1., job='count') as acquired:
                if not acquired:
                    self.log.warn('lock held by {job}; skipping a count', job=self.lock.job)
                    continue
                value = self.device.read()
            now = time.time()
            session.data = {'value': value, 'timestamp': now}
            self.agent.publish_to_feed('feed_name', {
                'block_name': 'count', 'timestamp': now, 'data': {'value': value}})
            if params['test_mode']:
                break
        return True, 'Finished counting.'

    def _stop_count(self, session, params):
        """Stopper for count: ask the loop to end; it exits within a count."""
        if not self._count:
            return False, 'count is not running.'
        self._count = False
        return True, 'Requested to stop counting.'

    @ocs_agent.param('text', default='hello world', type=str)
    def print(self, session, params):
        """print(text='hello world')

        **Task** - Print some text passed to a Task.

        Args:
            text (str): Text to print out. Defaults to 'hello world'.

        Notes:
            The session data will be updated with the text::

                >>> response.session['data']
                {'text': 'hello world', 'last_updated': 1660249321.8729222}
        """
        with self.lock.acquire_timeout(timeout=3.0, job='print') as acquired:
            if not acquired:
                return False, f'Could not acquire lock: held by {self.lock.job}.'
            self.log.info('Text to print: {text}', text=params['text'])
            session.data = {'text': params['text'], 'last_updated': time.time()}
        return True, 'Printed text to logs.'


def add_agent_args(parser_in=None):
    """Add this agent's own options to ``parser_in`` (or a new parser)."""
    if parser_in is None:
        parser_in = argparse.ArgumentParser()
    pgroup = parser_in.add_argument_group('Agent Options')
    pgroup.add_argument('--mode', default='idle', choices=['idle', 'count'],
                        help="'count' starts the count Process at start-up.")
    return parser_in


def main(args=None):
    parser = add_agent_args()
    args = site_config.parse_args(agent_class='BarebonesAgent', parser=parser, args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    barebones = BarebonesAgent(agent, Counter())
    agent.register_process('count', barebones.count, barebones._stop_count,
                           startup=(args.mode == 'count'))
    agent.register_task('print', barebones.print)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
