"""Entry point (group ``ocs.plugins``) telling ocs-agent-cli what this package provides."""
package_name = 'ocs-agent-accessdirector'
agents = {
    'AccessDirector': {'module': 'ocs.agents.access_director.agent',
                       'entry_point': 'main'},
}
