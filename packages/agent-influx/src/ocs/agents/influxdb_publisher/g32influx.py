"""ocs-g32influx: back-fill InfluxDB from HK .g3 files.

When the publisher could not deliver (an outage longer than its spool, a
publisher that was down), the Aggregator's .g3 archive still has the data.
This tool reads the HK files of a folder for a time range and writes them to
InfluxDB the way the publisher does (measurement = agent address, a ``feed``
tag, one field per HK field), so the gap in Grafana fills in. Writing a
point that is already there is harmless (InfluxDB replaces it).

Needs so3g: ``pip install 'ocs-agent-influx[g3]'``.

Example::

    ocs-g32influx /data/hk --start 2026-04-06T19:00 --end 2026-04-06T21:00 \\
        --host influxdb --database ocs_feeds
"""
import datetime
import os
import re
import sys
import time

import click

from ocs.common.influxdb_drivers import encode_message

from . import credentials
from .backends import Unavailable, make_backend


def parse_time(text):
    """Unix time from a number or an ISO 8601 time (UTC unless it says)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a Unix time nor an ISO 8601 "
                                 f"time such as 2026-04-06T19:00:00") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def find_files(folder, start=None, end=None):
    """HK .g3 files under ``folder`` that may hold data in [start, end].

    Files named by their start time (as the Aggregator names them, e.g.
    ``17755/1775502374.g3``) are chosen by name: those starting before
    ``end``, from the last one starting before ``start``. Others are all
    taken (the time range is applied to the data anyway).
    """
    named, other = [], []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if not name.endswith('.g3'):
                continue
            path = os.path.join(root, name)
            m = re.fullmatch(r'(\d+(?:\.\d+)?)\.g3', name)
            (named if m else other).append((float(m.group(1)) if m else 0.0, path))
    named.sort()
    if start is not None:
        before = [i for i, (t, _) in enumerate(named) if t <= start]
        if before:
            named = named[before[-1]:]
    if end is not None:
        named = [(t, p) for t, p in named if t <= end]
    return [p for _, p in named] + sorted(p for _, p in other)


def _provider_feed(provider):
    """Feed dict for an HK provider named like a feed address."""
    if '.feeds.' in provider:
        agent, feed_name = provider.rsplit('.feeds.', 1)
    else:
        agent, feed_name = provider, provider.rsplit('.', 1)[-1]
    return {'agent_address': agent, 'feed_name': feed_name, 'address': provider,
            'record': True, 'agg_params': {}, 'agent_class': None, 'session_id': None}


def file_messages(path, start=None, end=None, max_points=5000):
    """Feed-shaped messages from one HK file: yields ``(data, feed)``.

    Each co-sampled group becomes a block; long groups are cut so that one
    message holds about ``max_points`` points.
    """
    from so3g.hk import HKArchiveScanner  # optional dependency

    scanner = HKArchiveScanner()
    scanner.process_file(path)
    arc = scanner.finalize()
    data, timelines = arc.get_data(start=start, end=end)
    for group, tl in sorted(timelines.items()):
        t = tl['t']
        if len(t) == 0:
            continue
        by_provider = {}
        for full in tl['fields']:
            provider, _, name = full.rpartition('.')
            by_provider.setdefault(provider, {})[name] = data[full]
        for provider, fields in by_provider.items():
            feed = _provider_feed(provider)
            step = max(1, max_points // max(1, len(fields)))
            for i in range(0, len(t), step):
                block = {'block_name': str(group), 'timestamps': t[i:i + step],
                         'data': {k: v[i:i + step] for k, v in fields.items()}}
                yield {str(group): block}, feed


class BackFill:
    """Writes the messages of HK files through a backend, counting."""

    def __init__(self, backend, protocol='line', batch_points=50000, retries=3,
                 merge_fields=True):
        self.backend = backend
        self.protocol = protocol
        self.merge_fields = merge_fields
        self.batch_points = batch_points
        self.retries = retries
        self.points = 0
        self.written = 0
        self.rejected = {}
        self.skipped = {}
        self._texts = []
        self._pending = 0

    def add(self, data, feed):
        enc = encode_message(data, feed, self.protocol, self.merge_fields)
        for s in enc.skipped:
            key = (s.measurement, s.field, s.reason)
            self.skipped[key] = self.skipped.get(key, 0) + s.count
        if enc.points:
            self._texts.append(enc.text)
            self._pending += enc.points
            self.points += enc.points
        if self._pending >= self.batch_points:
            self.flush()

    def flush(self):
        if not self._pending:
            return
        body = ''.join(self._texts).encode()
        wait = 1.0
        for attempt in range(self.retries + 1):
            try:
                result = self.backend.write(body, self._pending) if self.backend else None
                break
            except Unavailable:
                if attempt == self.retries:
                    raise
                time.sleep(wait)
                wait *= 2
        if result is not None:
            self.written += result.written
            for r in result.rejected:
                key = (r.measurement, r.field, r.reason)
                self.rejected[key] = self.rejected.get(key, 0) + r.count
        self._texts, self._pending = [], 0


@click.command(context_settings={'help_option_names': ['-h', '--help'],
                                 'max_content_width': 100})
@click.argument('folder', type=click.Path(exists=True, file_okay=False))
@click.option('--start', help='Start of the range: Unix time or ISO 8601 (UTC).')
@click.option('--end', help='End of the range: Unix time or ISO 8601 (UTC).')
@click.option('--api', type=click.Choice(['v1', 'v2']), default='v1', show_default=True,
              help='InfluxDB 1.x /write, or the 2.x write API.')
@click.option('--host', default='localhost', show_default=True)
@click.option('--port', default=8086, show_default=True, type=int)
@click.option('--database', default='ocs_feeds', show_default=True,
              help='Database (v1) or bucket (v2).')
@click.option('--url', help='v2: server URL (default from host and port).')
@click.option('--org', default='', help='v2: organization.')
@click.option('--ssl', is_flag=True, help='Use https.')
@click.option('--verify-ssl', is_flag=True, help="Check the server's certificate.")
@click.option('--gzip', is_flag=True, help='Compress requests.')
@click.option('--protocol', type=click.Choice(['line', 'json']), default='line',
              show_default=True)
@click.option('--batch-points', default=50000, show_default=True, type=int,
              help='Field values per write request.')
@click.option('--one-field-per-line', is_flag=True,
              help='One line per field value (default: the fields of a timestamp on one line).')
@click.option('--retries', default=3, show_default=True, type=int,
              help='Attempts again (1 s, 2 s, 4 s ... apart) when the database does not answer.')
@click.option('--dry-run', is_flag=True, help='Read and format only; write nothing.')
def main(folder, start, end, api, host, port, database, url, org, ssl, verify_ssl,
         gzip, protocol, batch_points, one_field_per_line, retries, dry_run):
    """Back-fill InfluxDB from the HK .g3 files in FOLDER.

    Credentials come from INFLUXDB_USERNAME / INFLUXDB_PASSWORD (v1),
    INFLUXDB_TOKEN (v2), or their _FILE forms.
    """
    try:
        import so3g.hk  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "so3g is needed to read .g3 files: pip install 'ocs-agent-influx[g3]'")
    t_start, t_end = parse_time(start), parse_time(end)
    if t_start is not None and t_end is not None and t_end <= t_start:
        raise click.BadParameter(f"--end {end} is not after --start {start}")
    files = find_files(folder, t_start, t_end)
    if not files:
        raise click.ClickException(f"no .g3 files in {folder} for that range")
    backend = None
    if not dry_run:
        creds = credentials.resolve()
        if api == 'v1':
            backend = make_backend('v1', host=host, database=database, port=port, ssl=ssl,
                                   verify_ssl=verify_ssl, gzip=gzip,
                                   username=creds['username'], password=creds['password'])
        else:
            token = creds['token'] or (f"{creds['username']}:{creds['password'] or ''}"
                                       if creds['username'] else None)
            backend = make_backend('v2', url=url or f"{'https' if ssl else 'http'}://{host}:{port}",
                                   bucket=database, org=org, token=token,
                                   verify_ssl=verify_ssl, gzip=gzip)
    fill = BackFill(backend, protocol, batch_points, retries,
                    merge_fields=not one_field_per_line)
    done = None
    try:
        with click.progressbar(files, label=f'{len(files)} files', file=sys.stderr,
                               item_show_func=lambda p: os.path.basename(p) if p else '') as bar:
            for path in bar:
                try:
                    for data, feed in file_messages(path, t_start, t_end, batch_points):
                        fill.add(data, feed)
                except RuntimeError as e:
                    click.echo(f"\n{path}: cannot read ({e}); skipped", err=True)
                    continue
                fill.flush()
                done = path
    except Unavailable as e:
        raise click.ClickException(
            f"{e}\nstopped after {fill.written} points; last file done: {done or 'none'}"
            " (run again from there: rewriting points is harmless)")
    finally:
        if backend is not None:
            backend.close()
    verb = 'formatted (dry run)' if dry_run else 'written'
    click.echo(f"{fill.points if dry_run else fill.written} points {verb} from "
               f"{len(files)} files")
    for (meas, field, reason), n in sorted(fill.rejected.items()):
        click.echo(f"rejected: {n} points of {meas} {field}: {reason}")
    for (meas, field, reason), n in sorted(fill.skipped.items()):
        click.echo(f"not written: {n} values of {meas} {field}: {reason}")
    if fill.rejected:
        sys.exit(2)


if __name__ == '__main__':
    main()
