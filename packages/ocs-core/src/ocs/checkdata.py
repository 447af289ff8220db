"""Check the HK ``.g3`` files an Aggregator wrote (the module of ocs 0.12):
which providers and fields they hold and over which times, with gaps and
unreadable files reported.

The reading is done by the Aggregator package
(``ocs.agents.aggregator.checkdata``, needs so3g); this module offers 0.12's
names on top of it.
"""
from ocs.ocs_feed import Feed  # noqa: F401  (0.12 offers it here)


def _aggregator_checkdata():
    try:
        from ocs.agents.aggregator import checkdata
    except ImportError as e:
        raise ImportError('ocs.checkdata needs the Aggregator package '
                          f'(ocs-agent-aggregator, with so3g): {e}') from e
    return checkdata


def _build_file_list(target):
    """The ``.g3`` files of ``target`` (a file or a folder, searched recursively)."""
    return _aggregator_checkdata().find_files([target])


class DataChecker:
    """Summarise the HK files of a file or folder.

    Args:
        target (str): A ``.g3`` file or a folder of them.
        verbose (bool): Also print every field of each provider.

    Attributes:
        files (list of str): The files found (after :meth:`scan_files`).
        summary (dict): The result of the scan (after :meth:`process_files`):
            ``files``, ``problems``, ``start``, ``end``, ``providers``,
            ``timelines``.
    """

    def __init__(self, target, verbose=False):
        self.target = target
        self.verbose = verbose
        self.files = []
        self.summary = None

    def scan_files(self):
        """Find the files of the target."""
        self.files = _build_file_list(self.target)
        return self.files

    def process_files(self):
        """Read every file found; returns the summary dict."""
        if not self.files:
            self.scan_files()
        self.summary = _aggregator_checkdata().scan(self.files)
        return self.summary

    def run(self):
        """Scan, read and print the summary."""
        summary = self.process_files()
        print(f"{len(summary['files'])} file(s), {len(summary['problems'])} problem(s)")
        for name, info in sorted(summary['providers'].items()):
            fields = info.get('fields') or []
            print(f"  {name}: {len(fields)} field(s), {info.get('samples', 0)} sample(s)")
            if self.verbose:
                for field in sorted(fields):
                    print(f'    {field}')
        for problem in summary['problems']:
            print(f'  problem: {problem}')
        return summary


def main(target, verbose=False):
    """Check ``target`` and print what it holds."""
    return DataChecker(target, verbose=verbose).run()
