"""Paths of before 0.2 (see ``bank_crm.overrides``): ``bank_crm.permissions.query_guard``."""

from bank_crm.permissions.query_guard import activate  # noqa: F401
