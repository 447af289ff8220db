"""Reading docker compose files and docker's view of their containers.

Pure logic: no docker calls here. :mod:`ocs.agents.host_manager.docker_backend`
fetches the raw data (``docker inspect`` dicts, ``docker compose ps``
output) and these functions turn it into the HostManager's service states.
"""
import json
import os

import yaml

#: Labels docker compose (v1 and v2) puts on the containers it makes.
LABEL_PROJECT = 'com.docker.compose.project'
LABEL_SERVICE = 'com.docker.compose.service'
LABEL_CONFIG_FILES = 'com.docker.compose.project.config_files'
LABEL_WORKING_DIR = 'com.docker.compose.project.working_dir'
LABEL_ONEOFF = 'com.docker.compose.oneoff'

#: image_id given for a tag the docker system does not know.
UNKNOWN_IMAGE = 'unknown'
#: exit_code given for a service that has no container (never None).
NO_CONTAINER_EXIT_CODE = 127


class ComposeFileError(ValueError):
    """A docker compose file cannot be used.

    Args:
        message (str): What is wrong and what was expected.
        filename (str): The compose file.
        line (int, optional): 1-based line number.
    """

    def __init__(self, message, filename, line=None):
        self.message = message
        self.filename = filename
        self.line = line
        where = f"docker compose file {filename}"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")


def parse_compose_text(text, filename):
    """Parse a docker compose file's text into its services.

    Args:
        text (str or bytes): The file's content.
        filename (str): Its path (for messages and the results).

    Returns:
        dict: service name -> ``{'service', 'compose_file', 'image_tag'}``
        (``image_tag`` None when the service has no ``image``).

    Raises:
        ComposeFileError: Not YAML (with the line), or not a compose file
            with a ``services`` mapping.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        what = ' '.join(x for x in (e.context, e.problem) if x)
        raise ComposeFileError(f"YAML syntax error: {what}", filename, line) from None
    except yaml.YAMLError as e:
        raise ComposeFileError(f"YAML error: {e}", filename) from None
    if data is None:
        raise ComposeFileError("the file is empty; expected a mapping with "
                               "'services'", filename)
    if not isinstance(data, dict):
        raise ComposeFileError(f"expected a mapping with 'services', got "
                               f"{type(data).__name__}", filename)
    services = data.get('services')
    if services is None:
        raise ComposeFileError("no 'services' mapping (compose file format 2 "
                               "or later is needed)", filename)
    if not isinstance(services, dict):
        raise ComposeFileError(f"'services' must be a mapping of service name to "
                               f"settings, got {type(services).__name__}", filename)
    out = {}
    for name, cfg in services.items():
        if cfg is None:
            cfg = {}
        if not isinstance(cfg, dict):
            raise ComposeFileError(f"service '{name}' must be a mapping, got "
                                   f"{type(cfg).__name__}", filename)
        image = cfg.get('image')
        out[str(name)] = {'service': str(name), 'compose_file': filename,
                          'image_tag': None if image is None else str(image)}
    return out


def read_compose_file(path):
    """Read and parse a compose file (see :func:`parse_compose_text`).

    Raises:
        ComposeFileError: Missing, unreadable or bad file.
    """
    try:
        with open(path, 'rb') as f:
            text = f.read()
    except FileNotFoundError:
        raise ComposeFileError("file not found", path) from None
    except OSError as e:
        raise ComposeFileError(f"cannot read file: {e.strerror}", path) from None
    return parse_compose_text(text, path)


def parse_compose_ps(text):
    """Parse the output of ``docker compose ps``.

    Accepts ``--format json`` output (one JSON object per line, as compose
    2.21 and later print, or one JSON array, as earlier 2.x print) and
    ``-q`` output (one container ID per line, any compose version).

    Returns:
        list of dict: ``{'container_id', 'service', 'state', 'exit_code',
        'image'}``; from ``-q`` output only ``container_id`` is known (the
        other values are None).

    Raises:
        ValueError: A line is neither JSON nor a container ID.
    """
    text = text.decode() if isinstance(text, bytes) else text
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith('['):
        items = json.loads(stripped)
    elif stripped.startswith('{'):
        items = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    else:
        out = []
        for line in stripped.splitlines():
            word = line.strip()
            if not word:
                continue
            if not all(c in '0123456789abcdef' for c in word.lower()):
                raise ValueError(f"unexpected line in docker compose ps output: {line!r}")
            out.append({'container_id': word, 'service': None, 'state': None,
                        'exit_code': None, 'image': None})
        return out
    out = []
    for item in items:
        code = item.get('ExitCode')
        out.append({'container_id': item.get('ID'),
                    'service': item.get('Service'),
                    'state': item.get('State'),
                    'exit_code': int(code) if code is not None else None,
                    'image': item.get('Image')})
    return out


def container_config_files(labels):
    """The compose files a container came from, as absolute paths.

    Compose v1 records them relative to the project's working directory,
    v2 as absolute paths; both are handled.
    """
    files = (labels or {}).get(LABEL_CONFIG_FILES) or ''
    workdir = (labels or {}).get(LABEL_WORKING_DIR) or ''
    out = []
    for f in files.split(','):
        f = f.strip()
        if not f:
            continue
        if not os.path.isabs(f):
            f = os.path.join(workdir, f)
        out.append(os.path.normpath(f))
    return out


def summarize_container(inspect):
    """Reduce a ``docker inspect`` dict of a compose container.

    Returns:
        dict: ``container_id``, ``name``, ``service``, ``project``,
        ``config_files`` (absolute), ``running``, ``exit_code``,
        ``running_image`` (image ID), ``image_tag`` (as configured),
        ``created``, ``oneoff``.
    """
    cfg = inspect.get('Config') or {}
    labels = cfg.get('Labels') or {}
    state = inspect.get('State') or {}
    return {
        'container_id': inspect.get('Id'),
        'name': (inspect.get('Name') or '').lstrip('/'),
        'service': labels.get(LABEL_SERVICE),
        'project': labels.get(LABEL_PROJECT),
        'config_files': container_config_files(labels),
        'running': bool(state.get('Running')),
        'exit_code': state.get('ExitCode'),
        'running_image': inspect.get('Image'),
        'image_tag': cfg.get('Image'),
        'created': inspect.get('Created') or '',
        'oneoff': str(labels.get(LABEL_ONEOFF, 'False')).lower() == 'true',
    }


def belongs_to(summary, compose_file):
    """True if a summarized container was made from ``compose_file``."""
    target = os.path.normpath(compose_file)
    return target in summary.get('config_files', [])


def _pick(containers):
    # Prefer a running container; else the most recently created one.
    return sorted(containers, key=lambda c: (c['running'], c['created']))[-1]


def service_states(compose_file, services, containers, image_ids):
    """Combine a compose file's services with docker's containers.

    Args:
        compose_file (str): The compose file (absolute path).
        services (dict): From :func:`parse_compose_text`.
        containers (list of dict): :func:`summarize_container` results (any
            compose file; those of other files are ignored).
        image_ids (dict): image tag -> image ID (missing or
            :data:`UNKNOWN_IMAGE` if docker does not know the tag).

    Returns:
        (states, orphans). ``states`` maps service name to a dict with
        ``compose_file``, ``service``, ``image_tag``, ``image_id``,
        ``container_found``, ``running``, ``exit_code`` (127 when there is
        no container; never None), ``container_id``,
        ``running_image``, ``restart_required``. ``orphans`` maps container
        ID to a dict (``compose_file``, ``service``, ``container_id``,
        ``running``, ``exit_code``, ``container_found``, ``running_image``)
        for containers of this compose file whose service it no longer has.
    """
    mine = [c for c in containers if belongs_to(c, compose_file) and not c.get('oneoff')]
    by_service = {}
    for c in mine:
        by_service.setdefault(c['service'], []).append(c)
    states = {}
    for name, svc in services.items():
        tag = svc.get('image_tag')
        image_id = image_ids.get(tag, UNKNOWN_IMAGE) if tag else UNKNOWN_IMAGE
        found = by_service.get(name)
        st = {'compose_file': compose_file, 'service': name, 'image_tag': tag,
              'image_id': image_id, 'container_found': bool(found),
              'running': False, 'exit_code': NO_CONTAINER_EXIT_CODE,
              'container_id': None,
              'running_image': None, 'restart_required': False}
        if found:
            c = _pick(found)
            code = c['exit_code']
            st.update(running=c['running'],
                      exit_code=NO_CONTAINER_EXIT_CODE if code is None else code,
                      container_id=c['container_id'], running_image=c['running_image'])
            st['restart_required'] = bool(
                c['running'] and image_id != UNKNOWN_IMAGE
                and c['running_image'] and c['running_image'] != image_id)
        states[name] = st
    orphans = {}
    for service, found in by_service.items():
        if service in services:
            continue
        for c in found:
            orphans[c['container_id']] = {
                'compose_file': compose_file, 'service': service,
                'container_id': c['container_id'], 'running': c['running'],
                'exit_code': c['exit_code'], 'container_found': True,
                'running_image': c['running_image']}
    return states, orphans


def new_tags(table, states):
    """Image tags that docker does not know, for tracked docker instances.

    Args:
        table (dict): full_name -> ManagedInstance.
        states (dict): service -> state dict from :func:`service_states`.

    Returns:
        dict: instance_id -> image tag.
    """
    out = {}
    for inst in table.values():
        if inst.management != 'docker' or not inst.agent_script:
            continue
        st = states.get(inst.agent_script)
        if st and st['image_tag'] and st['image_id'] == UNKNOWN_IMAGE:
            out[inst.instance_id] = st['image_tag']
    return out
