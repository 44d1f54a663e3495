"""Paths of before 0.2 (see ``bank_crm.services``): the security check is now
``bench --site SITE execute bank_crm.bank_crm.page.bank_crm_security.bank_crm_security.check``."""

from bank_crm.bank_crm.page.bank_crm_security.bank_crm_security import check  # noqa: F401
