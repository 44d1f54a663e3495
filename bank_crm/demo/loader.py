"""The demo's entry points under the names callers import from here: ``bank_crm.install`` removes
the demo on uninstall with ``clear``, ``benchmarks/segmentation.py`` loads customers with
``load(..., demos=False)`` and the install check looks for ``CUSTOMER_PREFIX`` and
``DEMO_DOMAIN``. The code stands in ``bank_crm.demo`` (the entry that calls the parts) and in
the parts: ``customers``, ``staff``, ``base`` ….
"""

from bank_crm.demo import clear
from bank_crm.demo import load_parts as load
from bank_crm.demo.base import CUSTOMER_PREFIX, DEMO_DOMAIN

__all__ = ["CUSTOMER_PREFIX", "DEMO_DOMAIN", "clear", "load"]
