"""Paths of before 0.2 (see ``bank_crm.overrides``): ``bank_crm.bank_insight.opportunity``."""

from bank_crm.bank_insight.opportunity import validate  # noqa: F401
