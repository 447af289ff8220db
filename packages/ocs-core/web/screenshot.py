"""Make the README's screenshot of the web panel (web/panel.png, shown in the ocs-core README).

Starts a real router serving the panel, a Registry and a FakeData agent,
opens a FakeData page in headless Chromium (the system one, through
playwright) with delay_task running, and saves the picture. Run from the
repository root with the dev venv::

    .venv/bin/python packages/ocs-core/web/screenshot.py [OUT.png]

The PNG is reduced to a 256-colour palette when Pillow is importable.
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ocs.testing.agents import AgentLauncher
from ocs.testing.router import RouterProcess

OUT = Path(__file__).resolve().parent / 'panel.png'


def shrink(path):
    """Palette-reduce the PNG in place if Pillow is there; return its size."""
    try:
        from PIL import Image
    except ImportError:
        return path.stat().st_size
    img = Image.open(path).convert('RGB').quantize(colors=256)
    img.save(path, optimize=True)
    return path.stat().st_size


def main(out=OUT):
    from playwright.sync_api import sync_playwright
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='ocs-panel-shot-'))
    with RouterProcess(cbdir=tmp / 'cbdir', site_dir=tmp) as router:
        launcher = AgentLauncher(router, tmp / 'agents')
        try:
            launcher('registry', 'RegistryAgent', wait=False)
            launcher('faker1', 'FakeDataAgent', wait=False)
            launcher('faker2', 'FakeDataAgent', site_args=[['--mode', 'idle']], wait=False)
            for agent in launcher.started:
                agent.wait_ready(30)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=shutil.which('chromium'))
                page = browser.new_page(viewport={'width': 1280, 'height': 860})
                page.goto(f'http://127.0.0.1:{router.port}/#/agent/observatory.faker1')
                card = page.locator('section.op[data-op=delay_task]')
                card.locator('input[name=delay]').fill('20')
                card.locator('button.start').click()
                page.locator('section.plot .block[data-block=temps]').wait_for(timeout=90000)
                time.sleep(8)       # some seconds of data in the plot, progress under way
                page.screenshot(path=str(out))
                browser.close()
        finally:
            launcher.stop_all()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f'{out}: {shrink(out) / 1024:.0f} KiB')


if __name__ == '__main__':
    main(*sys.argv[1:])
