"""Keeps the last runs' tables in a marked section of a README."""
import re
from pathlib import Path

BEGIN = '<!-- compare_ocs012 runs: begin (written by bench/compare_ocs012.py --readme) -->'
END = '<!-- compare_ocs012 runs: end -->'
RUN = '<!-- compare_ocs012 run -->'


def add_run(path, markdown, keep=3):
    """Append ``markdown`` to the section between BEGIN and END of the file
    at ``path``, dropping the oldest runs beyond ``keep``. The rest of the
    file is left as it is (it is read just before writing)."""
    path = Path(path)
    text = path.read_text()
    pattern = re.compile(re.escape(BEGIN) + r'(.*?)' + re.escape(END), re.S)
    m = pattern.search(text)
    if m is None:
        raise ValueError(f'{path} has no section marked {BEGIN!r} ... {END!r}; '
                         f'add those two lines where the tables belong')
    runs = [r.strip() for r in m.group(1).split(RUN) if r.strip()]
    runs = (runs + [markdown.strip()])[-keep:]
    body = ''.join(f'\n{RUN}\n{r}\n' for r in runs)
    path.write_text(text[:m.start()] + BEGIN + body + END + text[m.end():])
