"""ocs plugin: lets ``ocs-agent-cli --agent AggregatorAgent`` find this agent."""
package_name = 'ocs-agent-aggregator'
agents = {
    'AggregatorAgent': {'module': 'ocs.agents.aggregator.agent',
                        'entry_point': 'main'},
}
