"""Support files (as ocs 0.12 ships them in ``ocs/support``).

``crossbar_config.json``: a Crossbar config template for one OCS site, with
the placeholders ``{realm}``, ``{address_root}`` and ``{port}`` (replace them
as text; the file is JSON once they are filled in). ``ocs-router config``
writes a complete config for a site file.
"""
import os

#: Folder of the support files.
SUPPORT_DIR = os.path.dirname(os.path.abspath(__file__))
#: Path of the Crossbar config template.
CROSSBAR_TEMPLATE = os.path.join(SUPPORT_DIR, 'crossbar_config.json')


def render_crossbar_config(realm, address_root, port):
    """The template with the placeholders filled in (JSON text)."""
    with open(CROSSBAR_TEMPLATE) as f:
        text = f.read()
    return (text.replace('{realm}', realm).replace('{address_root}', address_root)
            .replace('{port}', str(int(port))))
