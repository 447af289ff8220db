"""Site configuration, split by responsibility.

- :mod:`ocs.config.site_file`: finding the site config file, reading its YAML.
- :mod:`ocs.config.keys`: the keys a file may hold; warnings logged once.
- :mod:`ocs.config.model`: the classes a site config file becomes
  (``SiteConfig.host_for`` picks a program's host entry).
- :mod:`ocs.config.args`: command-line options and argument merging.
- :mod:`ocs.config.loading`: get_config, parse_args.

The public module is :mod:`ocs.site_config`, which re-exports these.
"""
