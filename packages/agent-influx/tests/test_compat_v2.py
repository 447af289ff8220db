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


def test_v2_publisher_with_ocs012_constructor_writes_and_runs_until_told(victoria):
    import queue
    from ocs.agents.influxdb_publisher_v2.drivers import Publisher
    q = queue.Queue()
    env = {'INFLUXDB_V2_URL': victoria.url, 'INFLUXDB_V2_ORG': 'site',
           'INFLUXDB_V2_TOKEN': 'x', 'INFLUXDB_V2_BUCKET': 'compat_v2_pub'}
    feed = {'agent_address': 'observatory.v2pubtest', 'feed_name': 'temps',
            'address': 'observatory.v2pubtest.feeds.temps', 'record': True,
            'agg_params': {}, 'session_id': '1.0', 'agent_class': 'X'}
    q.put(({'b': {'block_name': 'b', 'timestamps': [1700000000.0, 1700000001.0],
                  'data': {'t': [1.5, 2.5]}}}, feed))
    rounds = []
    pub = Publisher(q, 'line', False, lambda: len(rounds) < 3 and not rounds.append(1),
                    environ=env)
    assert pub.run(idle_s=0.01) == 0
    deadline = time.time() + 15
    while time.time() < deadline:
        got = victoria.export('{__name__="observatory.v2pubtest_t"}')
        if got:
            break
        time.sleep(0.3)
    [series] = got.values()
    assert [v for _, v in series] == [1.5, 2.5]


def test_v2_publisher_names_the_missing_variables():
    import queue
    from ocs.agents.influxdb_publisher_v2.drivers import Publisher
    with pytest.raises(ValueError, match='INFLUXDB_V2_URL'):
        Publisher(queue.Queue(), environ={})
