"""Record every event of matching feeds to a JSON-lines file (a WAMP subscriber).

Run by ``tests/test_multihost_netns.py`` inside host A's network namespace::

    python tests/netns_feed_recorder.py --url ws://10.231.0.1:8001/ws \\
        --realm test_realm --topic observatory..feeds.false_temperatures \\
        --out events.jsonl

Each line: ``{"recv": <unix time received>, "feed": <feed address>,
"session_id": ..., "timestamps": [sample times of every block]}``. The
first line, ``{"joined": <time>}``, is written once subscribed. Stops on
SIGTERM/SIGINT.
"""
import json
import time

import click
from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.types import SubscribeOptions
from twisted.internet.defer import inlineCallbacks

from ocs.ocs_feed import unpack_event


def sample_times(message):
    """All sample timestamps of a recorded-feed message ``{block: {...}}``."""
    out = []
    for block in message.values():
        out.extend(block.get('timestamps', []))
    return out


def make_session(topic, out):
    class Recorder(ApplicationSession):
        @inlineCallbacks
        def onJoin(self, details):
            yield self.subscribe(self.on_event, topic,
                                 options=SubscribeOptions(match='wildcard'))
            self._write({'joined': time.time()})

        def on_event(self, *args):
            recv = time.time()
            message, feed = unpack_event(*args)
            self._write({'recv': recv, 'feed': feed.get('address'),
                         'session_id': feed.get('session_id'),
                         'timestamps': sample_times(message)})

        def _write(self, obj):
            out.write(json.dumps(obj) + '\n')
            out.flush()
    return Recorder


@click.command()
@click.option('--url', required=True, help='Router WebSocket URL.')
@click.option('--realm', required=True, help='WAMP realm.')
@click.option('--topic', required=True, help='Topic (wildcard match).')
@click.option('--out', 'out_path', required=True, type=click.Path(dir_okay=False),
              help='JSON-lines file to append to.')
def main(url, realm, topic, out_path):
    """Subscribe to TOPIC and write every event to OUT."""
    with open(out_path, 'a') as out:
        ApplicationRunner(url, realm).run(make_session(topic, out),
                                          auto_reconnect=True)


if __name__ == '__main__':
    main()
