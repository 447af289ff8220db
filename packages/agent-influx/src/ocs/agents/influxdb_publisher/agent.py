"""InfluxDBAgent: writes every recorded feed of the site to InfluxDB, for
Grafana, and keeps the points through database outages."""
import argparse
import time

from ocs import ocs_agent, site_config
from ocs.recording import BoundedFeedQueue, FeedRecorder, recording_switch

from .drivers import Publisher, feed_wanted
from ocs.base import OpCode  # noqa: F401,E402  (0.12 offers it here)


class InfluxDBAgent:
    """This class provide a WAMP wrapper for the data publisher. The run
    function and the data handler are thread-safe, as long as multiple run
    functions are not started at the same time, which should be prevented
    through OCSAgent.

    Args:
        agent (OCSAgent): OCS Agent object
        args (namespace): args from the function's argparser.

    Attributes:
        data_dir (path): Path to the base directory where data should be
            written (the spool folder; None for memory only).
        aggregate (bool): Specifies if the agent is currently aggregating
            data.
        incoming_data (BoundedFeedQueue): Thread-safe, bounded queue where
            incoming (data, feed) pairs are stored before being passed to
            the Publisher.
        loop_time (float): Time between iterations of the run loop.
    """

    #: Whether the record Process is queueing feed events (0.12's name).
    aggregate = recording_switch()

    def __init__(self, agent, args):
        self.agent = agent
        self.log = agent.log
        self.args = args
        self.data_dir = args.spool_dir
        self.loop_time = float(args.loop_time)
        #: Every feed of the site, recorded ones queued while recording
        #: (bounded: what does not fit is refused and counted).
        self.recorder = FeedRecorder(agent, feed_wanted, BoundedFeedQueue(),
                                     address_root=getattr(args, 'address_root', None))
        self.incoming_data = self.recorder.incoming

    @property
    def feed_events(self):
        """Feed events seen: 'taken' (queued for InfluxDB), 'ignored' (not
        recorded feeds, or excluded with exclude_influx), 'malformed',
        'idle' (arrived while not recording) and 'refused' (the queue was
        full; counted, never silently dropped)."""
        return {**self.recorder.counts, 'refused': self.incoming_data.dropped_messages}

    def _publisher(self):
        a = self.args
        return Publisher(
            a.host, a.database, self.incoming_data, port=a.port, protocol=a.protocol,
            ssl=a.ssl, verify_ssl=a.verify_ssl, gzip=a.gzip,
            operate_callback=lambda: self.aggregate,
            api=a.api, url=a.url, org=a.org, token=a.token, username=a.username,
            password=a.password, spool_dir=a.spool_dir, max_memory_mb=a.max_memory_mb,
            max_spool_mb=a.max_spool_mb, spool_after=a.spool_after,
            batch_points=a.batch_points, timeout=a.timeout,
            merge_fields=not a.one_field_per_line)

    @ocs_agent.param('test_mode', default=False, type=bool)
    def record(self, session, params):
        """record(test_mode=False)

        **Process** - This process will create an Publisher instance, which
        will collect and write provider data to disk as long as this process
        is running.

        Parameters:
            test_mode (bool, optional): Run the record Process loop only once.
                This is meant only for testing. Default is False.

        Notes:
            An example of the session data::

                >>> response.session['data']
                {'connected': True,
                 'last_updated': 1774389203.53926,
                 'api': 'v1',
                 'target': "InfluxDB http://influxdb:8086 database 'ocs_feeds'",
                 'backlog': {'points': 0, 'bytes': 0, 'oldest_timestamp': None,
                             'memory_points': 0, 'spool_points': 0,
                             'spool_bytes': 0},
                 'spilling': False,
                 'received_points': 120000, 'written_points': 120000,
                 'write_requests': 30, 'last_write': 1774389203.1,
                 'outage_start': None, 'last_error': None,
                 'queued_messages': 0, 'request_waiting_s': None,
                 'lost': {'points': 0, 'bytes': 0, 'reason': None},
                 'rejected': {'points': 0, 'recent': []},
                 'skipped': {'values': 0, 'recent': []},
                 'malformed': {'messages': 0, 'recent': []},
                 'feed_events': {'taken': 3000, 'ignored': 2400}}

            While the database is unavailable ``connected`` is False, the
            backlog grows (memory, then the spool folder) and the session is
            degraded; points refused because memory and spool are full are
            counted in ``lost``. Points the database rejects are counted in
            ``rejected`` with their measurement, field and reason.
        """
        session.set_status('running')
        self.aggregate = True
        try:
            publisher = self._publisher()
        except (ValueError, OSError) as e:
            self.aggregate = False
            return False, f'Cannot start publishing: {e}'
        session.data = {'connected': publisher.connected, 'last_updated': time.time()}

        def show(status):
            status['last_updated'] = time.time()
            status['feed_events'] = dict(self.feed_events)
            session.data = status
        publisher.status_callback = show
        was_connected = None
        lost = 0
        try:
            while self.aggregate:
                publisher.process_incoming_data()
                status = publisher.status()
                show(status)
                session.degraded = publisher.degraded
                if status['connected'] != was_connected:
                    if status['connected']:
                        session.add_message(
                            f"Writing to {status['target']}; backlog "
                            f"{status['backlog']['points']} points.")
                    elif status['last_error']:
                        session.add_message(f"InfluxDB unavailable: {status['last_error']}")
                    was_connected = status['connected']
                if status['lost']['points'] != lost:
                    lost = status['lost']['points']
                    session.add_message(f"{lost} points lost so far: "
                                        f"{status['lost']['reason']}")
                if params['test_mode']:
                    break
                self.recorder.wake.wait(0.01 if publisher.busy else self.loop_time)
        finally:
            self.aggregate = False
            left = publisher.close()
            status = publisher.status()
            show(status)
            if status['backlog']['spool_points']:
                session.add_message(f"{status['backlog']['spool_points']} points kept "
                                    f"in {self.data_dir} for the next run.")
            if left:
                session.add_message(f"{left} points not written are lost "
                                    f"({status['lost']['reason']}).")
        return True, 'Stopped recording.'

    def _stop_record(self, session, params):
        """Stop the record Process (returns at once)."""
        if not self.aggregate:
            return False, 'record is not running.'
        self.aggregate = False
        return True, 'Stopping record.'


def make_parser(parser=None):
    """Add InfluxDBAgent's options to ``parser`` (or a new parser)."""
    if parser is None:
        parser = argparse.ArgumentParser()
    pgroup = parser.add_argument_group('Agent Options')
    pgroup.add_argument('--initial-state', default='record', choices=['idle', 'record'],
                        help="Start the record Process at start-up ('record') or not.")
    pgroup.add_argument('--api', default='v1', choices=['v1', 'v2'],
                        help="'v1': InfluxDB 1.x /write to a database; 'v2': the 2.x "
                             "write API (InfluxDB 2.x/3.x, or compatible) to a bucket.")
    pgroup.add_argument('--host', default='influxdb', help='InfluxDB host.')
    pgroup.add_argument('--port', default=8086, type=int, help='InfluxDB port.')
    pgroup.add_argument('--database', '--bucket', dest='database', default='ocs_feeds',
                        help='Database (v1) or bucket (v2) to write to.')
    pgroup.add_argument('--url', default=None,
                        help='v2: server URL (default http[s]://HOST:PORT).')
    pgroup.add_argument('--org', default='', help='v2: organization.')
    pgroup.add_argument('--token', default=None,
                        help='v2: API token (better: INFLUXDB_TOKEN or INFLUXDB_TOKEN_FILE).')
    pgroup.add_argument('--username', default=None,
                        help='Username (better: INFLUXDB_USERNAME or INFLUXDB_USERNAME_FILE).')
    pgroup.add_argument('--password', default=None,
                        help='Password (better: INFLUXDB_PASSWORD or INFLUXDB_PASSWORD_FILE).')
    pgroup.add_argument('--protocol', default='line', choices=['line', 'json'],
                        help='Form the points are built in (both are sent as line protocol).')
    pgroup.add_argument('--gzip', type=_bool, default=False, nargs='?', const=True,
                        help='Compress requests.')
    pgroup.add_argument('--ssl', type=_bool, default=False, nargs='?', const=True,
                        help='Use https.')
    pgroup.add_argument('--verify-ssl', type=_bool, default=False, nargs='?', const=True,
                        help="Check the server's certificate.")
    pgroup.add_argument('--spool-dir', default=None,
                        help='Folder for points kept on disk while the database is '
                             'unavailable (and across restarts). Without it, points '
                             'beyond --max-memory-mb are lost (and counted).')
    pgroup.add_argument('--max-memory-mb', default=64., type=float,
                        help='Most megabytes of points kept in memory.')
    pgroup.add_argument('--max-spool-mb', default=1024., type=float,
                        help='Most megabytes of points kept in the spool folder.')
    pgroup.add_argument('--spool-after', default=5., type=float,
                        help='Seconds of outage after which points go to the spool.')
    pgroup.add_argument('--batch-points', default=50000, type=int,
                        help='Field values per write request.')
    pgroup.add_argument('--one-field-per-line', action='store_true',
                        help='Write one line per field value (as format_data gives '
                             'them) rather than all fields of a timestamp and tag set '
                             'on one line (same data; InfluxDB takes the latter faster).')
    pgroup.add_argument('--timeout', default=10., type=float,
                        help='Seconds to wait for one write request.')
    pgroup.add_argument('--loop-time', default=1., type=float,
                        help='Seconds between writes.')
    return parser


def _bool(text):
    if isinstance(text, bool):
        return text
    low = str(text).strip().lower()
    if low in ('1', 'true', 'yes', 'on'):
        return True
    if low in ('0', 'false', 'no', 'off'):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def main(args=None):
    parser = make_parser()
    args = site_config.parse_args(agent_class='InfluxDBAgent', parser=parser, args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    influx = InfluxDBAgent(agent, args)
    agent.register_process('record', influx.record, influx._stop_record,
                           startup=(args.initial_state == 'record'))
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
