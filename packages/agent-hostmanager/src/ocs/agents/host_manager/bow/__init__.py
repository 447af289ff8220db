"""ocsbow: the command-line tool for a whole OCS site (router, HostManagers, agents)."""
