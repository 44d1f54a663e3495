"""Paths of before 0.2 (see ``bank_crm.overrides``): ``bank_crm.permissions.files``."""

from bank_crm.permissions.files import validate  # noqa: F401
