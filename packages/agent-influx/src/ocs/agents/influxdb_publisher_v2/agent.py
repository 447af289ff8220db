"""``InfluxDBAgentv2``, the agent class ocs 0.12 site configs name for
InfluxDB 2.x: this package's InfluxDBAgent with its 2.x backend.

The connection comes, as in ocs 0.12, from ``INFLUXDB_V2_URL``,
``INFLUXDB_V2_ORG``, ``INFLUXDB_V2_TOKEN`` and ``INFLUXDB_V2_BUCKET``
(command-line options of InfluxDBAgent, e.g. ``--url``, win over them).
"""
import os

from ocs import ocs_agent, site_config
from ocs.base import OpCode  # noqa: F401  (0.12 offers it here)
from ocs.agents.influxdb_publisher.agent import InfluxDBAgent
from ocs.agents.influxdb_publisher.agent import make_parser as _make_parser

from .drivers import Publisher, apply_env  # noqa: F401

AGENT_CLASS = 'InfluxDBAgentv2'


class InfluxDBAgentv2(InfluxDBAgent):
    """InfluxDBAgent writing through the InfluxDB 2.x API.

    Args:
        agent (OCSAgent): OCS Agent object.
        args (namespace): Parsed arguments (``api`` is set to ``'v2'``).
    """

    def __init__(self, agent, args):
        args.api = 'v2'
        super().__init__(agent, args)


def make_parser(parser=None):
    """InfluxDBAgent's options (0.12's ``--initial-state``, ``--protocol`` and
    ``--gzip`` among them), with the 2.x API as default."""
    parser = _make_parser(parser)
    parser.set_defaults(api='v2')
    return parser


def main(args=None):
    parser = make_parser()
    args = site_config.parse_args(agent_class=AGENT_CLASS, parser=parser, args=args)
    apply_env(args, os.environ)
    agent, runner = ocs_agent.init_site_agent(args)
    influx = InfluxDBAgentv2(agent, args)
    agent.register_process('record', influx.record, influx._stop_record,
                           startup=(args.initial_state == 'record'))
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
