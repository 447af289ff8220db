"""Entry point (group ``ocs.plugins``) telling ocs-agent-cli what this package provides."""
package_name = 'ocs-agent-hostmanager'
agents = {
    'HostManager': {'module': 'ocs.agents.host_manager.agent', 'entry_point': 'main'},
}
