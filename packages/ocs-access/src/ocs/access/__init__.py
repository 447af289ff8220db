"""Access control for OCS (placeholder until the library lands)."""
