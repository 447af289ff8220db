"""Entry point (group ``ocs.plugins``) telling ocs-agent-cli what this package provides."""
package_name = 'ocs-agent-influx'
agents = {
    'InfluxDBAgent': {'module': 'ocs.agents.influxdb_publisher.agent', 'entry_point': 'main'},
}
