"""Row-level access, stated once (the decision itself: ``bank_crm.core.access``).

- ``scope``: the user's scope, the one test of a limited scope, the one refusal, the one
  "CRM Administrator only" check;
- ``rows``: list conditions and document checks per doctype (hooks.py wires them);
- ``request_guard``: every request of an RM or branch manager naming a record out of reach;
- ``query_guard``: no filter, sort or group by a field the user may not read;
- ``read_paths``, ``global_search``: Frappe's generic reads through ones that apply the scope;
- ``files``: nobody reaches stored content by pointing a new File at it;
- ``limits``: per-user rate limits on sensitive endpoints.
"""

from bank_crm.permissions.scope import clear_scope_cache, get_scope  # noqa: F401
