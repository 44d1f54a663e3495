"""What the demo's parts share: how demo records are recognised, and the demo staff's password.

It imports nothing, so the frappe-free generator and every Frappe-side part can read it.
"""

PROFILE = "Bank Customer Profile"
CUSTOMER_PREFIX = "DEMO-C-"  # demo customers: DEMO-C-0000001 …
DEMO_DOMAIN = "demo.bank-crm.example"  # demo staff: rm0101a@demo.bank-crm.example …
DEMO_PASSWORD = "Demo@Bank2026"
CHUNK = 5_000  # demo customers generated and written per commit
