"""Entry point (group ``ocs.plugins``) telling ocs-agent-cli what this package provides."""
package_name = 'ocs-agent-registry'
agents = {
    'RegistryAgent': {'module': 'ocs.agents.registry.agent', 'entry_point': 'main'},
}
