"""A small OCS agent (real runtime, so it keeps feed messages while the
router is away) that publishes known values on a recorded feed.

``pub`` Process: sample ``k`` has timestamp ``t0 + k * dt`` and the values
of :func:`rawfeeds.value` for provider 0, fields ``f000``... The final
``session.data`` says how many samples were published::

    {'published': n, 't0': t0, 'dt': dt, 'fields': 4, 'kinds': 'mixed'}

Run with ``python -m countagent`` (this folder on PYTHONPATH).
"""
import argparse
import threading
import time

from ocs import ocs_agent, site_config
from ocs.ocs_twisted import Pacemaker

import rawfeeds


class CountAgent:
    def __init__(self, agent, args):
        self.agent = agent
        self.args = args
        self._stop = threading.Event()
        agent.register_feed('counts', record=True,
                            agg_params={'frame_length': args.frame_length},
                            buffer_time=args.buffer_time)

    @ocs_agent.param('_')
    def pub(self, session, params):
        """pub()

        **Process** - Publish samples until stopped."""
        a = self.args
        names = rawfeeds.field_names(a.fields)
        self._stop.clear()
        t0 = time.time()
        session.data = {'published': 0, 't0': t0, 'dt': 1. / a.rate,
                        'fields': a.fields, 'kinds': a.kinds}
        session.set_status('running')
        pace = Pacemaker(a.rate)
        k = 0
        while not self._stop.is_set():
            pace.sleep()
            msg = rawfeeds.make_message(0, k, 1, t0, 1. / a.rate, names, a.kinds,
                                        block='counts')['counts']
            self.agent.publish_to_feed('counts', msg)
            k += 1
            session.data['published'] = k
        return True, 'published %d samples' % k

    def _stop_pub(self, session, params):
        self._stop.set()
        return True, 'stopping'


def main(args=None):
    parser = argparse.ArgumentParser()
    g = parser.add_argument_group('Agent Options')
    g.add_argument('--rate', type=float, default=20.)
    g.add_argument('--fields', type=int, default=4)
    g.add_argument('--kinds', default='mixed')
    g.add_argument('--frame-length', type=float, default=1.)
    g.add_argument('--buffer-time', type=float, default=0.2)
    args = site_config.parse_args(agent_class='CountAgent', parser=parser, args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    ca = CountAgent(agent, args)
    agent.register_process('pub', ca.pub, ca._stop_pub, startup=True)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
