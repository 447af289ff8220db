"""A site file naming ``InfluxDBAgentv2`` (the class ocs 0.12 configs use
for InfluxDB 2.x) starts this package's publisher with its 2.x backend,
configured from 0.12's environment variables, and the points reach a real
2.x-API server (VictoriaMetrics)."""
import time

import pytest

pytestmark = pytest.mark.integration


def test_influxdbagentv2_from_a_site_file_writes_through_the_v2_api(
        ocs_router, run_agent, victoria):
    root = ocs_router.address_root
    faker = run_agent('v2faker', 'FakeDataAgent', args=['--num-channels', '1'])
    env = {'INFLUXDB_V2_URL': victoria.url, 'INFLUXDB_V2_ORG': 'site',
           'INFLUXDB_V2_TOKEN': 'x', 'INFLUXDB_V2_BUCKET': 'compat_v2'}
    v2 = run_agent('v2pub', 'InfluxDBAgentv2', args=['--loop-time', '0.2'], env=env)
    api = v2.get_api()
    assert [op[0] for op in api['processes']] == ['record']
    deadline = time.time() + 30
    got = {}
    while time.time() < deadline:
        got = victoria.export(f'{{__name__=~"{root}.v2faker_channel_.*"}}')
        if got:
            break
        time.sleep(0.5)
    assert got, 'no point of v2faker reached VictoriaMetrics'
    assert faker.is_running and v2.is_running
