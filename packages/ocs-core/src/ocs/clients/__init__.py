"""Pieces shared by the OCS clients (:mod:`ocs.client_http`,
:mod:`ocs.ocs_client`, :mod:`ocs.client_t`): errors, reply formatting and
the per-operation helper objects, and :func:`~ocs.clients.control.get_control_client`
(re-exported by :mod:`ocs.site_config`).
"""
