"""Paths of before 0.2 (see ``bank_crm.overrides``): ``bank_crm.permissions.request_guard``."""

from bank_crm.permissions.request_guard import check  # noqa: F401
