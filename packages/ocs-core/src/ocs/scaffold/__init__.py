"""``ocs-new-agent``: create a new agent package in the monorepo's layout."""
