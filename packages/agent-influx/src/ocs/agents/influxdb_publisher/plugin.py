"""Entry point (group ``ocs.plugins``) telling ocs-agent-cli what this package provides."""
package_name = 'ocs-agent-influx'
agents = {
    'InfluxDBAgent': {'module': 'ocs.agents.influxdb_publisher.agent', 'entry_point': 'main'},
    # The class name ocs 0.12 site configs use for InfluxDB 2.x.
    'InfluxDBAgentv2': {'module': 'ocs.agents.influxdb_publisher_v2.agent',
                        'entry_point': 'main'},
}
