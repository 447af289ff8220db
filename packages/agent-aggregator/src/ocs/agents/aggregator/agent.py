"""AggregatorAgent: records every recorded feed on the router to so3g HK
``.g3`` files.

The work is done by :class:`ocs.agents.aggregator.drivers.Aggregator`;
this module connects it to the router: ocs-core's
:class:`~ocs.recording.FeedRecorder` (one wildcard subscription to
``<address_root>..feeds.``, made again on every join) feeding a bounded,
spooled queue between the reactor thread and the writer, and the
``record`` Process.
"""
import argparse
import gc
import time

from ocs import ocs_agent, site_config
from ocs.agents.aggregator.drivers import (Aggregator, IncomingQueue,  # noqa: F401
                                           parse_size, wanted_feed)
from ocs.agents.aggregator.recovery import (SpooledAggregator, SpooledQueue,
                                            open_spool, spool_folder)
from ocs.recording import FeedRecorder, recording_switch
from ocs.base import OpCode  # noqa: F401,E402  (0.12 offers it here)

__all__ = ['AggregatorAgent', 'make_parser', 'main']

#: Cyclic-GC thresholds for the agent process. Decoding feed messages
#: allocates a list per field per message; with the default threshold (700)
#: the collector runs every few messages and walks all the data held in the
#: queue and buffers, which cost the reactor thread more than decoding
#: itself. Feed data makes no reference cycles, so collect far less often.
GC_THRESHOLDS = (50000, 20, 20)


class AggregatorAgent:
    """This class provide a WAMP wrapper for the data aggregator. The run
    function and the data handler are thread-safe, as long as multiple run
    functions are not started at the same time, which should be prevented
    through OCSAgent.

    Args:
        agent (OCSAgent): OCS Agent object
        args (namespace): args from the function's argparser.

    Attributes:
        time_per_file (int): Time (sec) before files should be rotated.
        data_dir (path): Path to the base directory where data should be
            written.
        aggregate (bool): Specifies if the agent is currently aggregating
            data.
        incoming_data (IncomingQueue): Thread-safe, bounded queue where
            incoming (data, feed) pairs are stored before being passed to
            the Aggregator.
        loop_time (float): Time between iterations of the run loop.
    """

    #: Whether the record Process is queueing feed events (0.12's name).
    aggregate = recording_switch()

    def __init__(self, agent, args):
        self.agent = agent
        self.log = agent.log
        self.time_per_file = int(args.time_per_file)
        self.data_dir = args.data_dir
        self.max_file_size = args.max_file_size
        self.loop_time = float(args.loop_time)
        self.retry_interval = float(args.retry_interval)
        self.max_pending_bytes = args.max_pending_size
        #: Every feed of every agent (<root>.<instance>.feeds.<name>): the
        #: recorded ones and heartbeats queued (and spooled) while recording.
        self.recorder = FeedRecorder(
            agent, wanted_feed,
            SpooledQueue(max_messages=args.queue_max_messages,
                         max_values=args.queue_max_values),
            address_root=getattr(args, 'address_root', None))
        self.incoming_data = self.recorder.incoming
        self.topic = self.recorder.topic
        #: Folder of the spool (None: no spool, ``--no-spool``).
        self.spool_dir = None if getattr(args, 'no_spool', False) else spool_folder(
            args.data_dir, getattr(args, 'instance_id', None),
            getattr(args, 'spool_dir', None))
        self.spool_options = {
            'segment_bytes': getattr(args, 'spool_segment_size', None) or 64 << 20,
            'fsync_interval': getattr(args, 'spool_fsync', 1.0)}

    @property
    def malformed_events(self):
        """Feed events that were not ``(message, feed)`` (logged)."""
        return self.recorder.counts['malformed']

    def _enqueue_incoming_data(self, *args, **kwargs):
        """Feed event handler (reactor thread): queue recorded feeds and
        heartbeats while recording. Never raises."""
        self.recorder.on_event(*args, **kwargs)

    @ocs_agent.param('test_mode', default=False, type=bool)
    def record(self, session, params):
        """record(test_mode=False)

        **Process** - This process will create an Aggregator instance, which
        will collect and write provider data to disk as long as this process
        is running. What an earlier run received but did not write (it was
        killed) is replayed from the spool first.

        Parameters:
            test_mode (bool, optional): Run the record Process loop only
                once. This is meant only for testing. Default is False.

        Notes:
            The most recent file and active providers will be returned in
            the session data, with counters of what was received, written,
            lost and rejected, and the current write error (if any)::

                >>> response.session['data']
                {"current_file": "/data/16020/1602089117.g3",
                 "providers": {
                    "observatory.fake-data1.feeds.false_temperatures": {
                        "last_refresh": 1602089118.8225083,
                        "sessid": "1602088928.8294137",
                        "stale": false,
                        "last_block_received": "temps"}},
                 "received": {"messages": 120, "values": 3600},
                 "written": {"frames": 12, "bytes": 40960, "samples": 1200,
                             "values": 3600, "files_closed": 0},
                 "lost": {"queue_messages": 0, "queue_values": 0,
                          "write_frames": 0, "write_samples": 0,
                          "write_values": 0},
                 "write_error": null,
                 "spool": {"dir": "/data/spool/aggregator", "records": 12,
                           "torn_records": 0, "replayed": {"records": 0, ...}, ...},
                 "gaps": {"count": 0, "samples_estimate": 0, "by_feed": {}, ...},
                 ...}

            See the package README for every key.
        """
        session.set_status('running')
        spool, spool_error = None, None
        if self.spool_dir is not None:
            spool, spool_error = open_spool(self.spool_dir, log=self.log,
                                            **self.spool_options)
        self.incoming_data.spool = spool
        self.aggregate = True
        # What the spool holds from an earlier run is replayed here, before
        # the data queued meanwhile.
        aggregator = SpooledAggregator(
            self.incoming_data, self.time_per_file, self.data_dir,
            session=session, max_file_size=self.max_file_size,
            retry_interval=self.retry_interval,
            max_pending_bytes=self.max_pending_bytes, log=self.log,
            spool=spool, spool_error=spool_error)
        aggregator.extra_status['malformed_events'] = lambda: self.malformed_events
        try:
            while self.aggregate:
                start = time.monotonic()
                aggregator.run_once_safely()
                if params['test_mode']:
                    break
                self.recorder.wake.wait(max(0., self.loop_time - (time.monotonic() - start)))
        finally:
            self.aggregate = False
            aggregator.close_safely()
            self.incoming_data.spool = None
            if spool is not None:
                spool.close()
        return True, 'Aggregation has ended'

    def _stop_record(self, session, params):
        if not self.aggregate:
            return False, 'record is not running.'
        self.aggregate = False
        session.set_status('stopping')
        return True, 'Stopping aggregation'


def _size(text):
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def make_parser(parser=None):
    """Add AggregatorAgent's options to ``parser`` (or a new parser)."""
    if parser is None:
        parser = argparse.ArgumentParser()
    pgroup = parser.add_argument_group('Agent Options')
    pgroup.add_argument('--data-dir', default='/data/hk',
                        help='Base directory of the .g3 files '
                             '(<data-dir>/<ctime[:5]>/<ctime>.g3).')
    pgroup.add_argument('--initial-state', default='idle',
                        choices=['idle', 'record'],
                        help="'record' starts the record Process at start-up.")
    pgroup.add_argument('--time-per-file', default=3600, type=int,
                        help='Seconds before a new file is started.')
    pgroup.add_argument('--max-file-size', default=None, type=_size,
                        help='Start a new file before one grows past this size '
                             '(bytes, or with a suffix: 500M, 2G). Default: no '
                             'size limit.')
    pgroup.add_argument('--loop-time', default=1., type=float,
                        help='Seconds between iterations of the record loop.')
    pgroup.add_argument('--queue-max-messages', default=100000, type=int,
                        help='Most feed messages held between the router thread '
                             'and the writer; beyond, messages are counted as lost.')
    pgroup.add_argument('--queue-max-values', default=10_000_000, type=int,
                        help='Most values (samples x fields) held between the '
                             'router thread and the writer.')
    pgroup.add_argument('--retry-interval', default=5., type=float,
                        help='Seconds between write attempts after a disk error.')
    pgroup.add_argument('--max-pending-size', default='1G', type=_size,
                        help='Memory for frames kept while the disk cannot be '
                             'written (bytes or 500M, 2G); beyond, the oldest '
                             'data frames are dropped and counted.')
    pgroup.add_argument('--spool-dir', default=None,
                        help='Folder of the spool: what was received but is not in '
                             'a file yet, replayed on start after a kill. Default: '
                             '<data-dir>/spool/<instance-id>.')
    pgroup.add_argument('--no-spool', action='store_true',
                        help='Record without a spool (data held in memory are '
                             'lost if the agent is killed).')
    pgroup.add_argument('--spool-fsync', default=1., type=float,
                        help='Seconds between fsyncs of the spool (0: never). '
                             'Records reach the kernel at once, so a killed agent '
                             'loses nothing; this bounds what a power cut can lose.')
    pgroup.add_argument('--spool-segment-size', default='64M', type=_size,
                        help='Size of the spool\'s segment files (bytes or 64M).')
    return parser


def _check_args(args):
    for name in ('time_per_file', 'loop_time', 'queue_max_messages',
                 'queue_max_values', 'retry_interval'):
        value = getattr(args, name)
        if not value > 0:
            raise SystemExit(f"AggregatorAgent: --{name.replace('_', '-')} must be "
                             f"> 0, got {value}")
    if not args.spool_fsync >= 0:
        raise SystemExit("AggregatorAgent: --spool-fsync must be >= 0 (seconds), "
                         f"got {args.spool_fsync}")
    if not args.max_pending_size:
        raise SystemExit("AggregatorAgent: --max-pending-size must be > 0 (e.g. 1G)")


def main(args=None):
    parser = make_parser()
    args = site_config.parse_args(agent_class='AggregatorAgent', parser=parser,
                                  args=args)
    _check_args(args)
    agent, runner = ocs_agent.init_site_agent(args)
    hk_agg = AggregatorAgent(agent, args)
    agent.register_process('record', hk_agg.record, hk_agg._stop_record,
                           startup=(args.initial_state == 'record'))
    tune_gc()
    runner.run(agent, auto_reconnect=True)


def tune_gc():
    """Keep the objects made at start-up out of every collection (they live
    as long as the process) and collect less often (see GC_THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


if __name__ == '__main__':
    main()
