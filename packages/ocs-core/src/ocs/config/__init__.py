"""Site configuration, split by responsibility.

- :mod:`ocs.config.model`: the classes a site config file becomes.
- :mod:`ocs.config.args`: command-line options and argument merging.
- :mod:`ocs.config.loading`: finding/reading the file, get_config, parse_args.

The public module is :mod:`ocs.site_config`, which re-exports these.
"""
