"""Publisher and backends against real servers (no router): InfluxDB 1.6
(v1 API) and VictoriaMetrics (v2 write API through influxdb-client)."""
import queue
import threading
import time

import pytest
import requests

from ocs.agents.influxdb_publisher.backends import Unavailable, make_backend
from ocs.agents.influxdb_publisher.drivers import Publisher

pytestmark = pytest.mark.integration


def _feed(instance='faker1', feed_name='temps', agent_class='FakeDataAgent'):
    return {'agent_address': f'observatory.{instance}', 'agg_params': {},
            'feed_name': feed_name, 'address': f'observatory.{instance}.feeds.{feed_name}',
            'record': True, 'session_id': '1', 'agent_class': agent_class}


def _message(t0, n=5, step=0.1, start=0, tags=False):
    ts = [t0 + (start + i) * step for i in range(n)]
    block = {'block_name': 'b', 'timestamps': ts,
             'data': {'chan_0': [0.1 * (start + i) + 1e-9 for i in range(n)],
                      'chan_1': [-(start + i) / 3 for i in range(n)],
                      'count': [start + i for i in range(n)],
                      'flag': [(start + i) % 2 == 0 for i in range(n)],
                      'state': [f'st "{start + i}"' for i in range(n)]}}
    if tags:
        block['data'] = {k: v for k, v in block['data'].items() if k.startswith('chan')}
        block['influxdb_tags'] = {'chan_0': {'_field': 'volts', 'channel': 0},
                                  'chan_1': {'_field': 'volts', 'channel': 1}}
    return {'b': block}


def _run(pub, until, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pub.process_incoming_data()
        if until():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out; status {pub.status()}")


def _v1(server, db, q, **kw):
    return Publisher('127.0.0.1', db, q, port=server.port, **kw)


MODES = pytest.mark.parametrize('merge', [True, False], ids=['merged', 'one-field-per-line'])


@MODES
def test_v1_exact_read_back_both_schemes(influxdb1, merge):
    q = queue.Queue()
    db = f'readback_{merge}'
    pub = _v1(influxdb1, db, q, merge_fields=merge)
    t0 = 1775502374.078489
    q.put((_message(t0), _feed()))
    q.put((_message(t0, tags=True), _feed('faker2')))
    _run(pub, lambda: pub.written_points == 35)
    got = influxdb1.points(db)
    ns = [int((t0 + i * 0.1) * 1e9) for i in range(5)]
    plain = (('feed', 'temps'),)
    assert got[('observatory.faker1', plain, 'chan_0')] == \
        [(t, 0.1 * i + 1e-9) for i, t in enumerate(ns)]
    assert got[('observatory.faker1', plain, 'chan_1')] == [(t, -i / 3) for i, t in enumerate(ns)]
    assert got[('observatory.faker1', plain, 'count')] == [(t, i) for i, t in enumerate(ns)]
    assert got[('observatory.faker1', plain, 'flag')] == [(t, i % 2 == 0) for i, t in enumerate(ns)]
    assert got[('observatory.faker1', plain, 'state')] == [(t, f'st "{i}"') for i, t in enumerate(ns)]
    for ch in (0, 1):
        tags = (('address_root', 'observatory'), ('channel', str(ch)), ('feed', 'temps'),
                ('instance_id', 'faker2'))
        want = [0.1 * i + 1e-9 for i in range(5)] if ch == 0 else [-i / 3 for i in range(5)]
        assert got[('FakeDataAgent', tags, 'volts')] == list(zip(ns, want))
    assert len(got) == 7
    assert pub.connected and pub.status()['rejected']['points'] == 0
    pub.close()


def test_v1_json_protocol_and_gzip(influxdb1):
    q = queue.Queue()
    pub = _v1(influxdb1, 'jsongz', q, protocol='json', gzip=True)
    t0 = 1775502000.0   # whole microseconds: the JSON form keeps them exactly
    q.put((_message(t0, step=0.25), _feed()))
    _run(pub, lambda: pub.written_points == 25)
    got = influxdb1.points('jsongz')
    ns = [int(t0 * 1e9) + i * 250_000_000 for i in range(5)]
    assert got[('observatory.faker1', (('feed', 'temps'),), 'count')] == list(zip(ns, range(5)))
    pub.close()


def test_v2_api_to_victoriametrics(victoria):
    q = queue.Queue()
    pub = Publisher(None, 'hk', q, api='v2', url=victoria.url, org='site', token='x')
    t0 = time.time() - 60
    q.put((_message(t0), _feed()))
    q.put((_message(t0, tags=True), _feed('faker2')))
    _run(pub, lambda: pub.written_points == 35)
    # VictoriaMetrics keeps milliseconds (cut, not rounded) and shows about
    # 12 significant digits of a value: exact up to what it stores.
    ms = [int((t0 + i * 0.1) * 1e9) // 10**6 for i in range(5)]

    def vm(v):
        return pytest.approx(v, rel=2e-12, abs=1e-20)

    def stored():
        return victoria.export('{__name__=~"observatory.faker1_.*|FakeDataAgent_.*"}')
    deadline = time.monotonic() + 15
    while len(stored()) < 6 and time.monotonic() < deadline:
        time.sleep(0.3)
    got = stored()
    plain = (('feed', 'temps'),)
    assert got[('observatory.faker1_chan_1', plain)] == [(t, vm(-i / 3)) for i, t in enumerate(ms)]
    assert got[('observatory.faker1_chan_0', plain)] == \
        [(t, vm(0.1 * i + 1e-9)) for i, t in enumerate(ms)]
    assert got[('observatory.faker1_count', plain)] == [(t, i) for i, t in enumerate(ms)]
    assert got[('observatory.faker1_flag', plain)] == [(t, int(i % 2 == 0)) for i, t in enumerate(ms)]
    tags = (('address_root', 'observatory'), ('channel', '1'), ('feed', 'temps'),
            ('instance_id', 'faker2'))
    assert got[('FakeDataAgent_volts', tags)] == [(t, vm(-i / 3)) for i, t in enumerate(ms)]
    assert ('observatory.faker1_state', plain) not in got or \
        all(v == 0 for _, v in got[('observatory.faker1_state', plain)])  # no strings in VM
    pub.close()


@MODES
def test_rejected_points_are_reported_and_the_rest_written(influxdb1, merge):
    """With merged lines, a refused point would take the other fields of
    its timestamp with it: the batch is sent again one field per line."""
    q = queue.Queue()
    db = f'reject_{merge}'
    pub = _v1(influxdb1, db, q, merge_fields=merge)
    t0 = 1775502374.0
    q.put(({'b': {'timestamps': [t0], 'data': {'x': [1.5]}}}, _feed()))
    _run(pub, lambda: pub.written_points == 1)
    # x is a float field now: integers for it conflict; a timestamp beyond
    # what InfluxDB can store is refused too; NaN is never sent.
    q.put(({'b': {'timestamps': [t0 + 1, t0 + 2, t0 + 3],
                  'data': {'x': [2, 3, 4], 'y': [0.5, float('nan'), 0.7]}},
            'c': {'timestamps': [1e12], 'data': {'z': [1.0]}}}, _feed()))
    _run(pub, lambda: pub.status()['rejected']['points'] >= 4)
    st = pub.status()
    rej = {(r['measurement'], r['field']): r for r in st['rejected']['recent']}
    assert rej[('observatory.faker1', 'x')]['count'] == 3
    assert 'type conflict' in rej[('observatory.faker1', 'x')]['reason']
    assert rej[('observatory.faker1', 'z')]['count'] == 1
    assert 'unable to parse' in rej[('observatory.faker1', 'z')]['reason']
    assert st['skipped']['values'] == 1
    assert st['skipped']['recent'][0]['field'] == 'y'
    got = influxdb1.points(db)
    ns = [int((t0 + k) * 1e9) for k in (1, 3)]
    assert got[('observatory.faker1', (('feed', 'temps'),), 'y')] == list(zip(ns, [0.5, 0.7]))
    assert got[('observatory.faker1', (('feed', 'temps'),), 'x')] == [(int(t0 * 1e9), 1.5)]
    assert st['backlog']['points'] == 0 and st['connected']
    assert st['written_points'] == 1 + 2 and st['received_points'] == 1 + 6
    pub.close()


def test_malformed_messages_are_counted_not_fatal(influxdb1):
    q = queue.Queue()
    pub = _v1(influxdb1, 'malformed', q)
    q.put(('not a dict', _feed()))
    q.put(({'b': {'timestamps': [1, 2], 'data': {'x': [1.0]}}}, _feed()))
    q.put('not a pair')
    q.put(({'b': {'timestamps': [1775502374.0], 'data': {'x': [1.0]}}}, _feed()))
    _run(pub, lambda: pub.written_points == 1)
    st = pub.status()
    assert st['malformed']['messages'] == 3
    assert any("field 'x' has 1 values for 2 timestamps" in m['reason']
               for m in st['malformed']['recent'])
    pub.close()


def test_credentials_from_files(influxdb1_auth, tmp_path, monkeypatch):
    server = influxdb1_auth
    r = requests.post(server.url + '/query', data={
        'q': "CREATE USER admin WITH PASSWORD 's3cret' WITH ALL PRIVILEGES"}, timeout=10)
    assert r.status_code == 200, r.text
    (tmp_path / 'user').write_text('admin\n')
    (tmp_path / 'pass').write_text('wrong\n')
    monkeypatch.setenv('INFLUXDB_USERNAME_FILE', str(tmp_path / 'user'))
    monkeypatch.setenv('INFLUXDB_PASSWORD_FILE', str(tmp_path / 'pass'))
    monkeypatch.delenv('INFLUXDB_USERNAME', raising=False)
    monkeypatch.delenv('INFLUXDB_PASSWORD', raising=False)
    q = queue.Queue()
    q.put(({'b': {'timestamps': [1775502374.0], 'data': {'x': [1.0]}}}, _feed()))
    pub = _v1(server, 'auth', q)
    pub.process_incoming_data()
    assert not pub.connected and 'authentication refused' in pub.last_error
    assert pub.backlog.points == 1
    pub.close()
    (tmp_path / 'pass').write_text('s3cret\n')
    q.put(({'b': {'timestamps': [1775502374.0], 'data': {'x': [1.0]}}}, _feed()))
    pub = _v1(server, 'auth', q)
    _run(pub, lambda: pub.written_points == 1)
    pub.close()
    got = server.query('SELECT x FROM "observatory.faker1"', 'auth',
                       auth=('admin', 's3cret'))
    assert got['results'][0]['series'][0]['values'] == [[1775502374000000000, 1.0]]


def test_outage_keeps_points_then_writes_them_once(influxdb1_own, tmp_path):
    """Database stopped mid-run: points wait (memory, then spool) and all
    arrive once it is back; session figures tell the backlog meanwhile."""
    server = influxdb1_own
    q = queue.Queue()
    pub = _v1(server, 'outage', q, spool_dir=str(tmp_path / 'spool'), spool_after=0.5,
              timeout=2, retry_max=0.5)
    t0 = 1775502374.0
    sent = 0

    def send(k):
        nonlocal sent
        q.put((_message(t0, n=10, start=sent, step=0.01), _feed()))
        sent += 10

    send(0)
    _run(pub, lambda: pub.written_points == 50)
    server.stop()
    for k in range(6):
        send(k)
        pub.process_incoming_data()
        time.sleep(0.2)
    st = pub.status()
    assert not st['connected'] and pub.degraded
    assert st['backlog']['points'] == 300 and st['backlog']['spool_points'] == 300
    assert st['backlog']['oldest_timestamp'] == pytest.approx(t0 + 0.1)
    assert 'connection refused' in st['last_error']
    server.restart()
    send(0)
    _run(pub, lambda: pub.backlog.points == 0 and pub.written_points == 400)
    assert not pub.degraded and pub.status()['lost']['points'] == 0
    got = server.points('outage')
    series = got[('observatory.faker1', (('feed', 'temps'),), 'count')]
    assert [v for _, v in series] == list(range(80))
    pub.close()


def test_spool_survives_a_restart_of_the_publisher(influxdb1_own, tmp_path):
    server = influxdb1_own
    spool = str(tmp_path / 'spool')
    server.stop()
    q = queue.Queue()
    pub = _v1(server, 'restart', q, spool_dir=spool, spool_after=0, timeout=2)
    for k in range(3):
        q.put((_message(1775502374.0, n=10, start=10 * k), _feed()))
        pub.process_incoming_data()
    assert pub.backlog.spool.points == 150
    del pub   # as if killed: nothing more is done (the spool is on disk)
    server.restart()
    q2 = queue.Queue()
    pub2 = _v1(server, 'restart', q2, spool_dir=spool)
    assert pub2.backlog.points == 150
    _run(pub2, lambda: pub2.backlog.points == 0)
    got = server.points('restart')
    assert [v for _, v in got[('observatory.faker1', (('feed', 'temps'),), 'count')]] == \
        list(range(30))
    pub2.close()


def test_stopping_never_waits_for_a_frozen_database(influxdb1_own):
    server = influxdb1_own
    q = queue.Queue()
    going = threading.Event()
    going.set()
    pub = _v1(server, 'frozen', q, timeout=60, operate_callback=going.is_set)
    q.put((_message(1775502374.0), _feed()))
    _run(pub, lambda: pub.written_points == 25)
    server.pause()
    try:
        q.put((_message(1775502375.0), _feed()))
        worker = threading.Thread(target=pub.process_incoming_data)
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive()          # the write waits for an answer
        t = time.monotonic()
        going.clear()                     # the Process is asked to stop
        worker.join(5)
        assert not worker.is_alive()
        pub.close()
        assert time.monotonic() - t < 2
        assert pub.backlog.lost_points == 25   # no spool: counted as lost
    finally:
        server.resume()


def test_backend_unavailable_names_the_target():
    backend = make_backend('v1', host='127.0.0.1', database='db', port=9, timeout=1)
    with pytest.raises(Unavailable, match=r"127\.0\.0\.1:9 database 'db'"):
        backend.write(b'm x=1 1\n')


def test_full_memory_and_spool_are_counted_as_lost(tmp_path):
    """Nothing is dropped silently: beyond memory and spool the points are
    counted as lost, with the reason (no server listens on the port)."""
    from ocs.agents.influxdb_publisher.servers import free_port
    q = queue.Queue()
    pub = Publisher('127.0.0.1', 'lost', q, port=free_port(), spool_dir=str(tmp_path / 'spool'),
                    max_memory_mb=0.001, max_spool_mb=0.01, spool_after=0, timeout=1,
                    merge_fields=False)
    for k in range(20):
        q.put((_message(1775502374.0 + k, n=10), _feed()))
        pub.process_incoming_data()
    st = pub.status()
    assert not st['connected'] and st['received_points'] == 20 * 50
    assert st['lost']['points'] > 0 and 'spool full' in st['lost']['reason']
    assert st['backlog']['points'] + st['lost']['points'] == 20 * 50
    assert 0 < st['backlog']['spool_bytes'] <= 0.01 * 2**20
    pub.close()
