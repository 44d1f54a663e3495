"""The hook paths of before 0.2, kept for one release (removed in 0.3).

Frappe keeps a site's hooks in its cache until ``bench migrate`` clears it; workers and web
processes that already run the new code meanwhile still call the old paths (every job calls the
``before_job`` hook). Each module here hands those calls on to where the code lives now:
``bank_crm.permissions`` (access), ``bank_crm.bank_customer.customer`` and
``bank_crm.bank_insight.opportunity``.
"""
