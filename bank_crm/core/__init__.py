"""Frappe-free decisions over plain data.

Nothing in this package may import frappe or any other part of bank_crm outside ``core``:
controllers, jobs and APIs call these functions, and plain pytest covers them.
"""
