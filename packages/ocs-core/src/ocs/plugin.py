"""The agent classes of this project's agent packages, under the module name
and shape of an ``ocs.plugins`` entry point (``package_name``, ``agents``).

ocs 0.12 shipped all these agents in one distribution with this plugin.
Here each agent package registers its own plugin; this module lists those
that are installed (it is not itself registered, so no class is offered
twice).
"""
from importlib.util import find_spec

package_name = 'ocs'

_KNOWN = {
    'AccessDirector': 'ocs.agents.access_director',
    'AggregatorAgent': 'ocs.agents.aggregator',
    'BarebonesAgent': 'ocs.agents.barebones',
    'FakeDataAgent': 'ocs.agents.fake_data',
    'HostManager': 'ocs.agents.host_manager',
    'InfluxDBAgent': 'ocs.agents.influxdb_publisher',
    'InfluxDBAgentv2': 'ocs.agents.influxdb_publisher_v2',
    'RegistryAgent': 'ocs.agents.registry',
}


def _installed(package):
    try:
        return find_spec(package) is not None
    except ImportError:
        return False


#: Agent class -> {'module': ..., 'entry_point': 'main'} for the installed ones.
agents = {name: {'module': f'{pkg}.agent', 'entry_point': 'main'}
          for name, pkg in _KNOWN.items() if _installed(pkg)}
