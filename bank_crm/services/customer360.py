"""Paths of before 0.2 (see ``bank_crm.services``): the customer-360 page's module."""

from bank_crm.bank_crm.page.customer_360.customer_360 import bank_crm_visit_brief  # noqa: F401
