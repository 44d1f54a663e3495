"""Paths of before 0.2 (see ``bank_crm.overrides``): ``bank_crm.permissions.global_search``."""

from bank_crm.permissions.global_search import search  # noqa: F401
