"""A test agent exercising the runtime: run as a module by the integration tests.

Options:
    --listen TOPIC --out FILE   subscribe (on every join) to TOPIC, matching
                                by wildcard, and append each event as a JSON
                                line to FILE.
"""
import argparse
import json
import math
import time

import numpy as np
from twisted.internet.defer import inlineCallbacks
from autobahn.twisted.util import sleep as dsleep

from ocs import ocs_agent, site_config
from ocs.ocs_feed import unpack_event


class Probe:
    def __init__(self, agent, args):
        self.agent = agent
        self.args = args
        self._streaming = False
        self._abort = False
        agent.register_feed('data', record=True, buffer_time=args.buffer_time,
                            agg_params={'frame_length': 10})
        agent.register_feed('free')
        if args.listen:
            self.out = open(args.out, 'a', buffering=1)
            agent.subscribe_on_start(self._on_event, args.listen,
                                     options={'match': 'wildcard'})

    def _on_event(self, *args):
        message, feed = unpack_event(*args)
        self.out.write(json.dumps({'message': message, 'feed': feed}) + '\n')

    @ocs_agent.param('value')
    def echo(self, session, params):
        session.data = {'value': params['value']}
        return True, f"echo {params['value']!r}"

    @ocs_agent.param('kind', choices=['nan', 'inf', 'numpy'])
    def bad_data(self, session, params):
        if params['kind'] == 'nan':
            session.data = {'x': math.nan, 'y': [1.0, math.nan]}
        elif params['kind'] == 'inf':
            session.data = {'x': 1.0}
            session.encoded()  # remembered as the last good data
            session.data = {'x': math.inf}
        else:
            session.data = {'f': np.float32(2.5), 'i': np.int64(7), 'a': np.arange(3)}
        return True, 'set'

    @ocs_agent.param('field')
    def bad_feed(self, session, params):
        try:
            self.agent.publish_to_feed('data', {'block_name': 'b', 'timestamp': time.time(),
                                                'data': {params['field']: 1.0}})
        except ValueError as e:
            return False, f'ValueError: {e}'
        return True, 'published'

    def numpy_feed(self, session, params):
        """Publish numpy arrays and scalars, then a plain message after them."""
        t = time.time()
        self.agent.publish_to_feed('data', {'block_name': 'np', 'timestamps': np.array([t, t + 1]),
                                            'data': {'i': np.arange(2), 's': np.array(['a', 'b']),
                                                     'f': np.array([0.5, 1.5], dtype=np.float32)}})
        self.agent.publish_to_feed('data', {'block_name': 'np1', 'timestamp': t,
                                            'data': {'i': np.int64(7), 'b': np.bool_(True)}})
        self.agent.publish_to_feed('data', {'block_name': 'plain', 'timestamp': t,
                                            'data': {'x': 1.0}})
        # An unrecorded feed takes any message; one the serializer cannot
        # encode is reported and dropped, and the next one still goes out.
        self.agent.publish_to_feed('free', {'obj': object()})
        self.agent.publish_to_feed('free', {'after': 1})
        return True, 'published'

    def crash(self, session, params):
        raise RuntimeError('deliberate crash')

    @ocs_agent.param('delay', default=1., type=float)
    @inlineCallbacks
    def sleep(self, session, params):
        session.set_status('running')
        self._abort = False
        t0 = time.time()
        while time.time() - t0 < params['delay']:
            if self._abort:
                return False, 'aborted'
            yield dsleep(0.05)
        return True, 'slept'

    def _abort_sleep(self, session, params):
        self._abort = True
        return True, 'abort requested'

    @ocs_agent.param('rate', default=10., type=float)
    @ocs_agent.param('fields', default=1, type=int)
    @ocs_agent.param('chunk', default=1, type=int)
    @ocs_agent.param('duration', default=None, type=float)
    def stream(self, session, params):
        """Publish sequence numbers: sample k of field j is k * fields + j."""
        session.set_status('running')
        self._streaming = True
        rate, nf, chunk = params['rate'], params['fields'], params['chunk']
        names = [f'f{j:03d}' for j in range(nf)]
        t0 = time.time()
        k = 0
        while self._streaming:
            if params['duration'] is not None and k >= params['duration'] * rate:
                break
            due = int((time.time() - t0) * rate) + 1
            if params['duration'] is not None:
                due = min(due, int(params['duration'] * rate))
            if due - k < chunk and not (params['duration'] is not None
                                        and due == int(params['duration'] * rate) and due > k):
                time.sleep(min(0.05, chunk / rate))
                continue
            ks = list(range(k, due))
            data = {n: [float(i * nf + j) for i in ks] for j, n in enumerate(names)}
            self.agent.publish_to_feed('data', {'block_name': 'seq',
                                                'timestamps': [t0 + i / rate for i in ks],
                                                'data': data})
            k = due
            session.data = {'published': k}
        session.data = {'published': k}
        return True, f'published {k} samples'

    def _stop_stream(self, session, params):
        self._streaming = False
        return True, 'stopping'


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--listen')
    parser.add_argument('--out')
    parser.add_argument('--buffer-time', type=float, default=0.)
    args = site_config.parse_args(agent_class='ProbeAgent', parser=parser, args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    probe = Probe(agent, args)
    agent.register_task('echo', probe.echo)
    agent.register_task('bad_data', probe.bad_data)
    agent.register_task('bad_feed', probe.bad_feed)
    agent.register_task('numpy_feed', probe.numpy_feed)
    agent.register_task('crash', probe.crash)
    agent.register_task('sleep', probe.sleep, blocking=False, aborter=probe._abort_sleep)
    agent.register_process('stream', probe.stream, probe._stop_stream)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
