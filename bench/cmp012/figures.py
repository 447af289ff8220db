"""Figures measured on both sides, round by round, and their table."""
import statistics
from dataclasses import dataclass, field

OURS, OLD = 'ours', 'old'
LABELS = {OURS: 'ours', OLD: '0.12.1'}


@dataclass
class Figure:
    """One figure: a value per round for each side.

    Args:
        name (str): What is measured.
        unit (str): Unit of the values.
        better (str): 'lower' or 'higher'.
        fmt (str): Format spec of one value.
    """
    name: str
    unit: str
    better: str = 'lower'
    fmt: str = '.3g'
    values: dict = field(default_factory=lambda: {OURS: [], OLD: []})

    def add(self, side, value):
        """Record ``value`` (None: the round failed) for ``side``."""
        self.values[side].append(value)

    def median(self, side):
        v = [x for x in self.values[side] if x is not None]
        return statistics.median(v) if v else None

    def ratio(self):
        """Median of ours over median of 0.12.1's (None if either is missing)."""
        a, b = self.median(OURS), self.median(OLD)
        return a / b if a is not None and b else None

    def round_ratios(self):
        """ours / 0.12.1 per round, for rounds where both sides have a value."""
        return [a / b for a, b in zip(self.values[OURS], self.values[OLD])
                if a is not None and b]

    def spread(self):
        """'min-max' of the per-round ratios ('' with fewer than two rounds)."""
        r = self.round_ratios()
        if len(r) < 2:
            return ''
        return f'{min(r):.2f}-{max(r):.2f}'

    def cell(self, side):
        m = self.median(side)
        if m is None:
            n = len(self.values[side])
            return 'failed' if n else '-'
        return f'{m:{self.fmt}} {self.unit}'.strip()

    def row(self):
        r = self.ratio()
        return [self.name, self.cell(OURS), self.cell(OLD),
                '-' if r is None else f'{r:.2f}', self.spread(), self.better]


HEADER = ['figure', 'ours', '0.12.1', 'ours / 0.12.1', 'per-round ratios', 'better']


class Table:
    """Figures in the order they were made."""

    def __init__(self):
        self.figures = []

    def figure(self, *args, **kwargs):
        f = Figure(*args, **kwargs)
        self.figures.append(f)
        return f

    def rows(self):
        return [f.row() for f in self.figures]

    def text(self):
        rows = [HEADER] + self.rows()
        w = [max(len(str(r[i])) for r in rows) for i in range(len(HEADER))]
        lines = ['  '.join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip()
                 for r in rows]
        lines.insert(1, '-' * len(lines[0]))
        return '\n'.join(lines)

    def markdown(self):
        def esc(c):
            return str(c).replace('|', '\\|')
        out = ['| ' + ' | '.join(HEADER) + ' |', '|' + '---|' * len(HEADER)]
        out += ['| ' + ' | '.join(esc(c) for c in r) + ' |' for r in self.rows()]
        return '\n'.join(out)
