"""Rendering ocsbow's status report as readable text (pure)."""
from ocs.agents.host_manager.state import STABILITY_WINDOW_S


def format_table(headers, rows, indent='  '):
    """Left-aligned columns separated by two spaces."""
    rows = [[('' if c is None else str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    lines = [indent + '  '.join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for r in rows:
        lines.append(indent + '  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return '\n'.join(lines)


def _notes(child):
    notes = []
    if child.get('unstable'):
        notes.append('unstable')
    if child.get('restarts'):
        code = child.get('exit_code')
        notes.append(f"{child['restarts']} restarts in {STABILITY_WINDOW_S:g} s"
                     + (f", last exit code {code}" if code is not None else ''))
    if child.get('next_action') == 'up' and child.get('joined') is False:
        notes.append('launched, not joined the router')
    if child.get('problem'):
        notes.append(child['problem'])
    if child.get('restart_required'):
        notes.append('restart required')
    if child.get('new_tag'):
        notes.append(f"new tag {child['new_tag']} not pulled")
    if child.get('note'):
        notes.append(child['note'])
    return ', '.join(notes)


def child_rows(host):
    """Table rows for one host's report (managed children, then others)."""
    rows = []
    seen = set()
    new_tags = host.get('new_tags') or {}
    for c in host.get('children') or []:
        seen.add(c['instance_id'])
        c = dict(c, new_tag=new_tags.get(c['instance_id']))
        stab = c.get('stability')
        rows.append([c['instance_id'], c['agent_class'], c['next_action'],
                     c['target_state'], '' if stab is None else f"{stab:.2f}", _notes(c)])
    for iid, manage in (host.get('configured') or {}).items():
        if iid in seen:
            continue
        if manage == 'ignore':
            note = 'not managed (manage: ignore)'
        elif host.get('answering'):
            note = 'not tracked by the HostManager'
        else:
            note = f'HostManager not answering (manage: {manage})'
        rows.append([iid, host.get('classes', {}).get(iid, '?'), '?', '', '', note])
    return rows


def format_status(report):
    """The whole ``ocsbow status`` text.

    Args:
        report (dict): ``{'site_file', 'router': {...}, 'hosts': [{...}]}``
            as gathered by :func:`ocs.agents.host_manager.bow.cli.gather_status`.
    """
    out = [f"Site config: {report['site_file']}"]
    r = report['router']
    line = f"Router: {r['ws_url']} (realm {r['realm']}): "
    line += 'answering' if r['reachable'] else 'NOT answering'
    local = r.get('local')
    if local:
        if local.get('running'):
            line += f"; local crossbar PID {local['pid']} ({local['cbdir']})"
        else:
            line += f"; no local crossbar running from {local['cbdir']}"
    out.append(line)
    for host in report['hosts']:
        out.append('')
        head = f"Host {host['host']}"
        if host.get('local'):
            head += ' (this machine)'
        if not host.get('hostmanager'):
            out.append(f"{head}: no HostManager configured")
        elif host.get('answering'):
            out.append(f"{head}: HostManager {host['hostmanager']} running (PID "
                       f"{host.get('pid')} on {host.get('hostname')}); manager "
                       f"{host.get('manager') or 'not running'}")
        else:
            out.append(f"{head}: HostManager {host['hostmanager']} not answering"
                       + (f" ({host['error']})" if host.get('error') else ''))
        for key, (ok, _t, msg) in sorted((host.get('config_parse_status') or {}).items()):
            if not ok:
                out.append(f"  ! {key}: {msg}")
        rows = child_rows(host)
        if rows:
            out.append(format_table(['INSTANCE-ID', 'AGENT-CLASS', 'CURRENT', 'TARGET',
                                     'STABILITY', 'NOTES'], rows))
        orphans = host.get('orphans') or {}
        if orphans:
            out.append('  Orphaned containers (ocsbow remove-orphans / the remove_orphans task):')
            out.append(format_table(
                ['CONTAINER', 'SERVICE', 'RUNNING', 'COMPOSE FILE'],
                [[cid[:12], o.get('service'), 'yes' if o.get('running') else 'no',
                  o.get('compose_file')] for cid, o in sorted(orphans.items())], '    '))
    return '\n'.join(out)
