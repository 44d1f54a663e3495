"""Paths of before 0.2 (see ``bank_crm.overrides``): ``bank_crm.bank_customer.customer``."""

from bank_crm.bank_customer.customer import before_insert, dashboard, validate  # noqa: F401
