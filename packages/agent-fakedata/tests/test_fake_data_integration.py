"""FakeDataAgent as a real process on a real router, driven by OCSClient."""
import time

import pytest

import ocs
from ocs.ocs_client import OCSClient
from ocs.ocs_feed import unpack_event

pytestmark = pytest.mark.integration


def client_for(agent, site_file):
    return OCSClient(agent.instance_id, args=['--site-file', str(site_file),
                                              '--site-host', 'localhost'])


def test_fake_data_operations_and_feed(ocs_router, run_agent, tmp_path):
    rate, nch = 50., 3
    site = ocs_router.write_site([
        {'agent-class': 'FakeDataAgent', 'instance-id': 'fakeint',
         'arguments': [['--mode', 'idle'], ['--num-channels', nch],
                       ['--sample-rate', rate]]},
        {'agent-class': 'WampStub', 'instance-id': 'fakelisten'}],
        path=tmp_path / 'site.yaml')
    run_agent('fakelisten', module='ocs.testing.wamp_stub', site_file=site,
              args=['--subscribe', f'{ocs_router.address_root}.fakeint.feeds.false_temperatures',
                    '--keep', '1000'])
    agent = run_agent('fakeint', site_file=site)
    client = client_for(agent, site)

    # Tasks: delay_task runs in the reactor, can be aborted, reports progress.
    reply = client.delay_task(delay=0.2)
    assert reply.status == ocs.OK and reply.session['success'] is True
    assert reply.session['data']['requested_delay'] == 0.2
    assert reply.session['data']['delay_so_far'] >= 0.2
    reply = client.delay_task(delay=1, succeed=False)
    assert reply.session['success'] is False
    reply = client.delay_task.start(delay='two')
    assert reply.status == ocs.ERROR and "Param 'delay'=two" in reply.msg
    client.delay_task.start(delay=30)
    assert client.delay_task.abort().status == ocs.OK
    reply = client.delay_task.wait(timeout=5)
    assert reply.session['success'] is False and 'Aborted' in reply.session['messages'][-2][1]
    assert client.set_heartbeat(heartbeat=True).session['success'] is True

    # acq runs while delay_task runs; the feed carries every sample on the grid.
    assert client.acq.start().status == ocs.OK
    client.delay_task.start(delay=1.0)
    time.sleep(3.5)
    status = client.acq.status()
    assert status.session['status'] == 'running'
    assert set(status.session['data']) == {'fields', 'timestamp'}
    assert client.delay_task.wait(timeout=5).session['success'] is True
    assert client.acq.stop().status == ocs.OK
    final = client.acq.wait(timeout=5)
    assert final.session['success'] is True

    time.sleep(1.5)  # the last buffered second
    events = ocs_router.call(f'{ocs_router.address_root}.fakelisten.events')['args'][0]
    ts = []
    for topic, args, kwargs in events:
        message, feed = unpack_event(*args)
        assert feed['feed_name'] == 'false_temperatures' and feed['record'] is True
        block = message['temps']
        assert sorted(block['data']) == [f'channel_{i:02d}' for i in range(nch)]
        assert all(len(v) == len(block['timestamps']) for v in block['data'].values())
        ts.extend(block['timestamps'])
    duration = final.session['end_time'] - final.session['start_time']
    assert abs(len(ts) - rate * duration) <= rate * 0.6, (len(ts), duration)
    assert all(abs((b - a) - 1 / rate) < 1e-6 for a, b in zip(ts, ts[1:]))
    assert ts[-1] == pytest.approx(final.session['data']['timestamp'])


def test_count_process_runs_in_reactor(ocs_router, run_agent, tmp_path):
    agent = run_agent('fakecount', 'FakeDataAgent', site_args=[['--mode', 'idle']])
    site = next(p for p in (tmp_path / 'agents').glob('site-fakecount-*.yaml'))
    client = client_for(agent, site)
    client.count.start()
    time.sleep(2.3)
    assert client.count.status().session['data']['counter'] >= 2
    client.count.stop()
    assert client.count.wait(timeout=3).session['success'] is True
    assert client.count.stop().status == ocs.ERROR
