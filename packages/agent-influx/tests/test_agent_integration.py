"""InfluxDBAgent on the real router, with FakeData agents and real InfluxDB
1.6 / VictoriaMetrics servers.

Ground truth: a recorder (``ocs.testing.wamp_stub``) subscribed to the
faker's feeds keeps every event; what the databases hold is compared with it.
"""
import os
import time

import pytest
import requests

pytestmark = pytest.mark.integration

FEED = 'false_temperatures'


# -- helpers -------------------------------------------------------------------
def _ops(router, address, action, op_name, params=None):
    reply = router.call(f'{address}.ops', action, op_name, params)
    assert 'args' in reply, reply
    return reply['args'][0]


def _record(router, address):
    """The record Process's encoded session."""
    return _ops(router, address, 'status', 'record')[2]


def _wait(what, cond, timeout=30, step=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what} (last: {last})")


def _start_all(run_agent, *specs):
    """Start agents at once, then wait until each answers; each spec is
    ``(instance_id, agent_class, args)`` or ``(instance_id, None, args,
    module)``."""
    procs = [run_agent(spec[0], spec[1], args=spec[2], wait=False,
                       module=spec[3] if len(spec) > 3 else None) for spec in specs]
    for p in procs:
        p.wait_ready(60)
    return procs


def _recorder_spec(faker_address):
    return ('recorder', None, ['--subscribe', f'{faker_address}.feeds.', '--match', 'prefix',
                               '--keep', '1000000'], 'ocs.testing.wamp_stub')


def _events(router, recorder):
    return router.call(f'{recorder.address}.events')['args'][0]


def _published(router, recorder):
    """What the recorder saw of FEED: ``{field: [(ns, value)]}`` in time order."""
    out = {}
    for topic, args, _kw in _events(router, recorder):
        if not topic.endswith('.feeds.' + FEED):
            continue
        message = args[0][0] if len(args) == 1 else args[0]
        for block in message.values():
            for field, values in block['data'].items():
                out.setdefault(field, []).extend(
                    (int(t * 1e9), v) for t, v in zip(block['timestamps'], values))
    for v in out.values():
        v.sort()
    return out


def _count(points):
    return sum(len(v) for v in points.values())


def _in_influx(server, db, instance='faker1'):
    got = server.points(db)
    tags = (('feed', FEED),)
    return {field: series for (meas, t, field), series in got.items()
            if meas == f'observatory.{instance}' and t == tags}


def _influx_agent_args(server, db, *extra):
    return ['--host', '127.0.0.1', '--port', str(server.port), '--database', db,
            '--loop-time', '0.2', '--timeout', '3', *extra]


def _subscribed(router, recorder, *pubs):
    """Wait until the recorder and the publishers receive feed events
    (heartbeats), so that no point published from now on is missed."""
    _wait('the recorder to receive events', lambda: len(_events(router, recorder)) > 0)
    for p in pubs:
        _wait(f'{p.address} to receive events', lambda p=p: (lambda s: s['status'] == 'running'
              and s['data'].get('feed_events', {}).get('ignored', 0) > 0)(
                  _record(router, p.address)))


def _settle(router, recorder, pub, expect=lambda n: n, timeout=40):
    """Wait until what the recorder saw is steady and the publisher wrote
    ``expect(n)`` of its ``n`` points with nothing left in its backlog.

    Returns:
        tuple: (what the recorder saw, the publisher's session data).
    """
    deadline = time.monotonic() + timeout
    prev = None
    while True:
        sent = _published(router, recorder)
        n = _count(sent)
        data = _record(router, pub.address)['data']
        if n == prev and n and data['written_points'] == expect(n) \
                and data['backlog']['points'] == 0:
            return sent, data
        if time.monotonic() > deadline:
            raise AssertionError(f"{pub.address}: {n} points published, expected "
                                 f"{expect(n)} written; session data {data}")
        prev = n
        time.sleep(0.5)


def _start_acq_then_stop(router, faker, seconds):
    _ops(router, faker.address, 'start', 'acq')
    time.sleep(seconds)
    _ops(router, faker.address, 'stop', 'acq')
    _wait('acq to end', lambda: _ops(router, faker.address, 'status', 'acq')[2]
          .get('status') == 'done', timeout=10)


def _written(router, address):
    return _record(router, address)['data'].get('written_points', -1)


# -- tests ---------------------------------------------------------------------
def test_exact_read_back_from_both_servers(ocs_router, run_agent, influxdb1, victoria):
    """Every point the faker publishes is read back exactly from InfluxDB 1.6
    (v1 API) and VictoriaMetrics (v2 API). A third publisher, whose database
    already holds channel_02 as a string, reports those points as rejected
    (measurement and field) and writes all the others."""
    r = requests.post(influxdb1.url + '/query', data={'q': 'CREATE DATABASE it_reject'},
                      timeout=10)
    assert r.status_code == 200, r.text
    text_ns = time.time_ns()
    r = requests.post(influxdb1.url + '/write', params={'db': 'it_reject'}, timeout=10,
                      data=f'observatory.faker1,feed={FEED} channel_02="text" {text_ns}')
    assert r.status_code == 204, r.text
    faker, recorder, v1, v2, rej = _start_all(
        run_agent,
        ('faker1', 'FakeDataAgent', ['--mode', 'idle', '--sample-rate', '25',
                                     '--num-channels', '3']),
        _recorder_spec(f'{ocs_router.address_root}.faker1'),
        ('influx-v1', 'InfluxDBAgent', _influx_agent_args(influxdb1, 'it_exact')),
        ('influx-v2', 'InfluxDBAgent', ['--api', 'v2', '--url', victoria.url, '--org', 'site',
                                        '--token', 'x', '--database', 'it_exact',
                                        '--loop-time', '0.2']),
        ('influx-rej', 'InfluxDBAgent', _influx_agent_args(influxdb1, 'it_reject')))
    _subscribed(ocs_router, recorder, v1, v2, rej)
    _start_acq_then_stop(ocs_router, faker, 3.0)

    sent, data = _settle(ocs_router, recorder, v1)
    n = _count(sent)
    assert n >= 3 * 25 * 2
    assert _in_influx(influxdb1, 'it_exact') == sent
    assert data['connected'] and data['received_points'] == n    # no other feed, none twice
    assert data['lost']['points'] == 0 and data['rejected']['points'] == 0
    assert data['malformed']['messages'] == 0 and data['skipped']['values'] == 0

    _settle(ocs_router, recorder, v2)

    def vm_series():
        got = victoria.export('{__name__=~"observatory.faker1_channel_.*"}')
        return {name.split('_', 1)[1]: s for (name, labels), s in got.items()
                if dict(labels).get('feed') == FEED}
    stored = _wait('VictoriaMetrics to show the points',
                   lambda: (lambda s: s if _count(s) == n else None)(vm_series()), timeout=15)
    for field, series in sent.items():
        assert [t for t, _ in stored[field]] == [ns // 10**6 for ns, _ in series]
        assert [v for _, v in stored[field]] == \
            pytest.approx([v for _, v in series], rel=2e-12, abs=1e-20)

    n_bad = len(sent['channel_02'])
    _, data = _settle(ocs_router, recorder, rej, expect=lambda n: n - n_bad)
    assert data['rejected']['points'] == n_bad
    [item] = data['rejected']['recent']
    assert (item['measurement'], item['field'], item['count']) == \
        ('observatory.faker1', 'channel_02', n_bad)
    assert 'type conflict' in item['reason']
    got = _in_influx(influxdb1, 'it_reject')
    assert got == {'channel_00': sent['channel_00'], 'channel_01': sent['channel_01'],
                   'channel_02': [(text_ns, 'text')]}
    assert data['backlog']['points'] == 0 and data['connected']


def test_database_outage_mid_run_loses_nothing(ocs_router, run_agent, influxdb1_own,
                                               tmp_path, outage_seconds):
    """The database is stopped mid-run and started again: every point
    arrives, once. The outage lasts ``OCS_INFLUX_OUTAGE_S`` (6 s by default;
    60 s behaves the same: after --spool-after the backlog is in the spool
    and the publisher retries every few seconds). Then, with the database
    frozen while a write waits for its answer, stopping the record Process
    returns at once and keeps the points in the spool."""
    server = influxdb1_own
    faker, recorder, pub = _start_all(
        run_agent,
        ('faker1', 'FakeDataAgent', ['--mode', 'idle', '--sample-rate', '20',
                                     '--num-channels', '2']),
        _recorder_spec(f'{ocs_router.address_root}.faker1'),
        ('influx', 'InfluxDBAgent', _influx_agent_args(
            server, 'it_outage', '--spool-dir', str(tmp_path / 'spool'), '--spool-after', '2',
            '--timeout', '30')))
    _subscribed(ocs_router, recorder, pub)
    _ops(ocs_router, faker.address, 'start', 'acq')
    _wait('first points', lambda: _written(ocs_router, pub.address) > 0)
    server.stop()
    t_stop = time.monotonic()
    session = _wait('the outage to show', lambda: (lambda s: s if not s['data']['connected']
                                                   and s['data']['backlog']['spool_points'] > 0
                                                   else None)(_record(ocs_router, pub.address)),
                    timeout=outage_seconds + 10)
    assert session['degraded'] and session['data']['backlog']['oldest_timestamp'] < time.time()
    time.sleep(max(0.0, outage_seconds - (time.monotonic() - t_stop)))
    backlog = _record(ocs_router, pub.address)['data']['backlog']['points']
    assert backlog >= 20 * 2 * outage_seconds * 0.8
    server.restart()
    _wait('writing again', lambda: _record(ocs_router, pub.address)['data']['connected'],
          timeout=20)
    _ops(ocs_router, faker.address, 'stop', 'acq')
    sent, data = _settle(ocs_router, recorder, pub, timeout=30 + outage_seconds)
    n = _count(sent)
    assert _in_influx(server, 'it_outage') == sent      # every point
    assert data['received_points'] == n                 # none twice
    assert data['lost']['points'] == 0
    session = _record(ocs_router, pub.address)
    assert not session['degraded']
    assert any('InfluxDB unavailable' in m for _, m in session['messages'])

    # Frozen database: a write waits (up to --timeout 30 s) for an answer.
    server.pause()
    try:
        _ops(ocs_router, faker.address, 'start', 'acq')
        _wait('a write waiting for the database', lambda: (_record(ocs_router, pub.address)
              ['data']['request_waiting_s'] or 0) > 1.0)
        t = time.monotonic()
        _ops(ocs_router, pub.address, 'stop', 'record')
        session = _wait('record to stop', lambda: (lambda s: s if s['status'] == 'done'
                                                   else None)(_record(ocs_router, pub.address)),
                        timeout=20)
        assert time.monotonic() - t < 8
        assert session['success']
        assert session['data']['backlog']['spool_points'] > 0
        assert any('kept in' in m for _, m in session['messages'])
    finally:
        server.resume()
        _ops(ocs_router, faker.address, 'stop', 'acq')


def test_publisher_killed_with_a_spool_loses_nothing(ocs_router, run_agent, influxdb1_own,
                                                      tmp_path):
    """Points in the spool survive SIGKILL of the publisher and are written
    by the next one, exactly."""
    server = influxdb1_own
    spool = str(tmp_path / 'spool')
    args = _influx_agent_args(server, 'it_kill', '--spool-dir', spool, '--spool-after', '0')
    faker, recorder, pub = _start_all(
        run_agent,
        ('faker1', 'FakeDataAgent', ['--mode', 'idle', '--sample-rate', '20',
                                     '--num-channels', '2']),
        _recorder_spec(f'{ocs_router.address_root}.faker1'),
        ('influx', 'InfluxDBAgent', args))
    _subscribed(ocs_router, recorder, pub)
    server.stop()
    _start_acq_then_stop(ocs_router, faker, 3.0)

    def spooled():
        n = _count(_published(ocs_router, recorder))
        d = _record(ocs_router, pub.address)['data']
        return n if n and d['received_points'] == n and d['backlog']['spool_points'] == n \
            else None
    first = _wait('everything received and spooled', spooled)
    time.sleep(1.0)
    assert spooled() == first                           # and nothing more comes
    pub.kill()                                          # SIGKILL: no clean-up at all
    assert any(name.endswith('.lp') for name in os.listdir(spool))
    server.restart()
    pub2 = run_agent('influx', 'InfluxDBAgent', args=args)
    sent, data = _settle(ocs_router, recorder, pub2)
    assert _count(sent) == first
    assert _in_influx(server, 'it_kill') == sent
    assert data['lost']['points'] == 0


def _try(fn):
    try:
        return fn()
    except (AssertionError, requests.RequestException, KeyError, TypeError):
        return None


def test_router_restart_subscribes_once_again(ocs_router, run_agent, influxdb1):
    """After a router restart every agent joins again; the publisher gets
    each event once (a double subscription would double received_points).
    The session's router is restarted (run_agent starts it if it is away)."""
    router = ocs_router
    faker, pub = _start_all(
        run_agent,
        ('faker1', 'FakeDataAgent', ['--sample-rate', '20', '--num-channels', '2',
                                     '--crossbar-timeout', '60']),
        ('influx', 'InfluxDBAgent', _influx_agent_args(influxdb1, 'it_router') +
         ['--crossbar-timeout', '60']))
    _wait('first points', lambda: _written(router, pub.address) > 0)
    router.restart()
    _wait('the publisher back', lambda: _try(lambda: _written(router, pub.address)),
          timeout=40)
    _wait('the faker back', lambda: _try(lambda: _ops(router, faker.address,
                                                       'status', 'acq')), timeout=40)
    before = _written(router, pub.address)
    _wait('new points after the restart',
          lambda: _written(router, pub.address) > before + 100, timeout=30)
    _ops(router, faker.address, 'stop', 'acq')

    def steady():
        d = _record(router, pub.address)['data']
        return d if d['received_points'] == d['written_points'] and \
            d['backlog']['points'] == 0 else None
    _wait('all written', steady)
    time.sleep(1.5)       # the faker's last buffered message
    data = _wait('all written', steady)
    got = _in_influx(influxdb1, 'it_router')
    assert data['received_points'] == data['written_points'] == _count(got)
    series = got['channel_00']
    assert len({t for t, _ in series}) == len(series)
    assert data['feed_events']['taken'] * 2 <= data['received_points']


def test_feed_of_a_released_ocs012_agent_is_written_exactly(ocs_router, run_agent, influxdb1,
                                                             old_ocs):
    """Deployed agents run ocs 0.12: their feed events reach InfluxDB exactly."""
    old = run_agent('oldfaker', 'FakeDataAgent', venv=old_ocs.venv, wait=False,
                    site_args=[['--mode', 'idle'], ['--sample-rate', '20'],
                               ['--num-channels', '2']])
    recorder, pub = _start_all(
        run_agent, _recorder_spec(f'{ocs_router.address_root}.oldfaker'),
        ('influx', 'InfluxDBAgent', _influx_agent_args(influxdb1, 'it_ocs012')))
    old.wait_ready(60)
    try:
        _subscribed(ocs_router, recorder, pub)
        _start_acq_then_stop(ocs_router, old, 2.5)
        sent, data = _settle(ocs_router, recorder, pub)
        assert _count(sent) >= 2 * 20 * 2
        assert data['malformed']['messages'] == 0 and data['received_points'] == _count(sent)
        # ocs 0.12's FakeData publishes 'influxdb_tags' (the reference's
        # second scheme): expected points from the recorded events.
        want = {}
        for topic, args, _kw in _events(ocs_router, recorder):
            if not topic.endswith('.feeds.' + FEED):
                continue
            message = args[0][0] if len(args) == 1 else args[0]
            for block in message.values():
                tags = block.get('influxdb_tags') or {}
                for key, values in block['data'].items():
                    spec = tags.get(key, {'_field': key})
                    series = (('FakeDataAgent' if tags else 'observatory.oldfaker'),
                              tuple(sorted([(k, str(v)) for k, v in spec.items() if k != '_field']
                                           + ([('address_root', 'observatory'),
                                               ('instance_id', 'oldfaker')] if tags else [])
                                           + [('feed', FEED)])),
                              spec['_field'])
                    want.setdefault(series, []).extend(
                        (int(t * 1e9), v) for t, v in zip(block['timestamps'], values))
        assert any(m == 'FakeDataAgent' for m, _, _ in want)
        got = influxdb1.points('it_ocs012')
        assert got == {k: sorted(v) for k, v in want.items()}
    finally:
        old.kill()          # 0.12 agents take seconds to shut down on SIGINT
