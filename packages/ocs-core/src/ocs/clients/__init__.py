"""Pieces shared by the OCS clients (:mod:`ocs.client_http`,
:mod:`ocs.ocs_client`, :mod:`ocs.client_t`): errors, reply formatting and
the per-operation helper objects.
"""
