"""``ocs-hk-check``: summarise a directory of so3g HK files.

Prints the time range, the providers, their blocks and fields, sample
counts and gaps; ``--field`` prints one field's values. A file cut off in
the middle of a frame (e.g. a killed writer) is read up to its last whole
frame and reported.
"""
import json
import os
import sys

import click
import numpy as np
import so3g
import so3g.hk  # noqa: F401
from spt3g import core

_HK = so3g.HKFrameType
_SECOND = core.G3Units.seconds


def find_files(paths):
    """The .g3 files named by ``paths`` (files, or folders searched
    recursively), in name order within each folder."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                out.extend(os.path.join(root, f) for f in sorted(files)
                           if f.endswith('.g3'))
        elif os.path.exists(p):
            out.append(p)
        else:
            raise click.BadParameter("%s: no such file or folder" % p,
                                     param_hint='PATHS')
    return out


def read_fields(paths):
    """Every field of the HK files under ``paths``, read back with so3g's
    HKArchiveScanner (the reader analysis code uses).

    Returns ``{field: (times, values)}`` as numpy arrays.
    """
    scanner = so3g.hk.HKArchiveScanner()
    for f in find_files(paths):
        scanner.process_file(f)
    archive = scanner.finalize()
    names, _ = archive.get_fields()
    data, timelines = archive.get_data(list(names))
    out = {}
    for timeline in timelines.values():
        for f in timeline['fields']:
            out[f] = (np.asarray(timeline['t']), np.asarray(data[f]))
    return out


def iter_frames(path):
    """Yields the frames of ``path``; stops at a truncated tail.

    Returns (through StopIteration.value) an error message or None.
    """
    reader = core.G3Reader(path)
    while True:
        try:
            frames = reader.Process(None)
        except RuntimeError as e:
            return "unreadable after the last whole frame: %s" % e
        if not frames:
            return None
        yield frames[0]


class _Timeline:
    def __init__(self, prefix, block, fields):
        self.prefix = prefix
        self.block = block
        self.fields = list(fields)
        self.times = []
        self.n_frames = 0

    def add(self, ticks):
        self.times.append(ticks)
        self.n_frames += 1

    def summary(self, gap):
        t = (np.concatenate(self.times) if self.times else
             np.zeros(0, np.int64)) / _SECOND
        out = {'provider': self.prefix, 'block': self.block,
               'fields': self.fields, 'samples': int(t.size),
               'frames': self.n_frames,
               'start': float(t.min()) if t.size else None,
               'end': float(t.max()) if t.size else None,
               'gaps': [], 'backward_steps': 0}
        if t.size > 1:
            dt = np.diff(t)
            out['backward_steps'] = int(np.count_nonzero(dt < 0))
            med = float(np.median(dt[dt > 0])) if np.any(dt > 0) else 0.
            thr = gap if gap is not None else max(10 * med, 1.0)
            out['gap_threshold'] = thr
            idx = np.nonzero(dt > thr)[0]
            out['gaps'] = [[float(t[i]), float(t[i + 1])] for i in idx]
            out['median_spacing'] = med
        return out


def scan(paths, gap=None, so3g_check=True):
    """Summarises the HK files under ``paths``.

    Args:
        paths (list of str): Files or folders.
        gap (float, optional): Spacing (s) counted as a gap; default ten
            times the median spacing of each timeline, at least 1 s.
        so3g_check (bool): Also run so3g's HKArchiveScanner on each file
            and report files it cannot read.

    Returns:
        dict: ``files``, ``problems``, ``start``, ``end``, ``providers``
        (provider -> {'fields', 'samples', 'blocks'}), ``timelines``.
    """
    files = find_files(paths)
    timelines = {}
    problems = []
    n_frames = 0
    versions = set()
    for path in files:
        provs = {}
        gen = iter_frames(path)
        while True:
            try:
                f = next(gen)
            except StopIteration as stop:
                if stop.value:
                    problems.append({'file': path, 'problem': stop.value})
                break
            n_frames += 1
            if f.type != core.G3FrameType.Housekeeping:
                continue
            versions.add(int(f.get('hkagg_version', 0)))
            t = f['hkagg_type']
            if t == _HK.status:
                provs = {int(p['prov_id'].value): str(p['description'].value)
                         for p in f['providers']}
            elif t == _HK.data:
                pid = int(f['prov_id'])
                prefix = provs.get(pid)
                if prefix is None:
                    problems.append({'file': path, 'problem':
                                     'data frame for prov_id %d that no '
                                     'status frame announced' % pid})
                    continue
                names = list(f['block_names']) if 'block_names' in f else \
                    ['block%d' % i for i in range(len(f['blocks']))]
                for name, b in zip(names, f['blocks']):
                    key = (prefix, name)
                    tl = timelines.get(key)
                    if tl is None:
                        tl = timelines[key] = _Timeline(prefix, name, b.keys())
                    tl.add(np.asarray(b.times, dtype=np.int64))
        if so3g_check:
            try:
                sc = so3g.hk.HKArchiveScanner()
                sc.process_file(path)
            except Exception as e:  # so3g raises several kinds
                problems.append({'file': path, 'problem':
                                 'so3g HKArchiveScanner failed: %s' % e})
    tls = [tl.summary(gap) for tl in timelines.values()]
    providers = {}
    for s in tls:
        p = providers.setdefault(s['provider'], {'fields': [], 'samples': 0,
                                                 'values': 0, 'blocks': []})
        p['blocks'].append(s['block'])
        p['fields'].extend('%s.%s' % (s['provider'], f) for f in s['fields'])
        p['samples'] += s['samples']
        p['values'] += s['samples'] * len(s['fields'])
    starts = [s['start'] for s in tls if s['start'] is not None]
    ends = [s['end'] for s in tls if s['end'] is not None]
    return {'files': len(files), 'frames': n_frames,
            'hkagg_versions': sorted(versions),
            'start': min(starts) if starts else None,
            'end': max(ends) if ends else None,
            'providers': providers, 'timelines': tls, 'problems': problems}


def field_values(paths, field):
    """All samples of one field, read with our tolerant reader.

    Args:
        paths (list of str): Files or folders.
        field (str): ``<provider address>.<field>``, or any dot-separated
            tail of it that matches one field.

    Returns:
        (full_name, times, values) as numpy arrays.
    """
    files = find_files(paths)
    matches = set()
    ts, vs = [], []
    for path in files:
        provs = {}
        gen = iter_frames(path)
        for f in gen:
            if f.type != core.G3FrameType.Housekeeping:
                continue
            t = f['hkagg_type']
            if t == _HK.status:
                provs = {int(p['prov_id'].value): str(p['description'].value)
                         for p in f['providers']}
            elif t == _HK.data:
                prefix = provs.get(int(f['prov_id']))
                if prefix is None:
                    continue
                for b in f['blocks']:
                    for k in b.keys():
                        full = '%s.%s' % (prefix, k)
                        if full == field or full.endswith('.' + field):
                            matches.add(full)
                            ts.append(np.asarray(b.times, dtype=np.int64) / _SECOND)
                            vs.append(np.asarray(b[k]))
    if not matches:
        raise click.BadParameter("no field %r in %d files" % (field, len(files)),
                                 param_hint='--field')
    if len(matches) > 1:
        raise click.BadParameter("%r matches several fields: %s"
                                 % (field, ', '.join(sorted(matches))),
                                 param_hint='--field')
    return (matches.pop(), np.concatenate(ts),
            np.concatenate(vs) if vs else np.zeros(0))


def _fmt_t(t):
    if t is None:
        return '-'
    import datetime
    return '%.3f (%s UTC)' % (t, datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S'))


def _fields_text(fields, all_fields=False, head=6):
    if all_fields or len(fields) <= head + 2:
        return ', '.join(fields)
    return '%s, ... %s (%d fields; --all-fields lists them)' % (
        ', '.join(fields[:head]), fields[-1], len(fields))


def print_summary(s, out=sys.stdout, all_fields=False):
    w = out.write
    w("files: %d   frames: %d   hkagg_version: %s\n"
      % (s['files'], s['frames'], ','.join(map(str, s['hkagg_versions'])) or '-'))
    w("time range: %s -> %s\n" % (_fmt_t(s['start']), _fmt_t(s['end'])))
    w("providers: %d\n" % len(s['providers']))
    for name, p in sorted(s['providers'].items()):
        w("  %s: %d fields, %d samples, %d values\n"
          % (name, len(p['fields']), p['samples'], p['values']))
    for tl in s['timelines']:
        w("    block %s.%s: %d samples in %d frames, %s -> %s, fields: %s\n"
          % (tl['provider'], tl['block'], tl['samples'], tl['frames'],
             _fmt_t(tl['start']), _fmt_t(tl['end']),
             _fields_text(tl['fields'], all_fields)))
        if tl['gaps']:
            w("      %d gaps longer than %.3g s:\n"
              % (len(tl['gaps']), tl['gap_threshold']))
            for a, b in tl['gaps'][:20]:
                w("        %s -> %s (%.3f s)\n" % (_fmt_t(a), _fmt_t(b), b - a))
            if len(tl['gaps']) > 20:
                w("        ... %d more\n" % (len(tl['gaps']) - 20))
        if tl['backward_steps']:
            w("      %d timestamps earlier than the one before\n"
              % tl['backward_steps'])
    if s['problems']:
        w("problems:\n")
        for p in s['problems']:
            w("  %s: %s\n" % (p['file'], p['problem']))
    else:
        w("problems: none\n")


@click.command(context_settings={'help_option_names': ['-h', '--help']})
@click.argument('paths', nargs=-1, required=True)
@click.option('--field', help="Print this field's values "
              "(<provider address>.<field>, or a unique dotted tail).")
@click.option('--gap', type=float, default=None,
              help='Seconds between samples counted as a gap (default: '
              '10x the median spacing, at least 1 s).')
@click.option('--json', 'as_json', is_flag=True, help='Print JSON.')
@click.option('--so3g-check/--no-so3g-check', default=True,
              help="Also read each file with so3g's HKArchiveScanner.")
@click.option('--limit', type=int, default=0,
              help='With --field: print at most this many samples (0: all).')
@click.option('--all-fields', is_flag=True,
              help='List every field of every block (default: the first few).')
def main(paths, field, gap, as_json, so3g_check, limit, all_fields):
    """Summarise the so3g HK files in PATHS (files or folders)."""
    if field:
        name, t, v = field_values(paths, field)
        if limit:
            t, v = t[:limit], v[:limit]
        if as_json:
            # NaN / inf are not JSON: they are written as null.
            vals = [x if not isinstance(x, float) or np.isfinite(x) else None
                    for x in v.tolist()]
            click.echo(json.dumps({'field': name, 'timestamps': t.tolist(),
                                   'values': vals}))
        else:
            click.echo("# %s: %d samples" % (name, len(t)))
            for a, b in zip(t.tolist(), v.tolist()):
                click.echo("%.6f %r" % (a, b))
        return
    s = scan(paths, gap=gap, so3g_check=so3g_check)
    if as_json:
        click.echo(json.dumps(s, indent=1))
    else:
        print_summary(s, all_fields=all_fields)
    if s['problems']:
        sys.exit(1)


if __name__ == '__main__':
    main()
