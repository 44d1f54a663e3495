"""Plain pytest for bank_crm.core: no Frappe, no database.

The repository root goes on sys.path so ``bank_crm.core`` imports without installing the app;
``bank_crm/__init__.py`` imports nothing from Frappe.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
