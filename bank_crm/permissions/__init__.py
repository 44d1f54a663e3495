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

# the hook paths of before 0.2 (``bank_crm.permissions.<function>``), for one release (see
# ``bank_crm.overrides``): removed in 0.3
from bank_crm.permissions.rows import (  # noqa: F401, E402
	broadcast_has_permission,
	broadcast_query_conditions,
	child_query_conditions,
	customer_has_permission,
	customer_query_conditions,
	direct_has_permission,
	direct_query_conditions,
	linked_has_permission,
	linked_query_conditions,
	opportunity_has_permission,
	opportunity_query_conditions,
	profile_has_permission,
	profile_query_conditions,
	referring_query_conditions,
)
from bank_crm.permissions.scope import (  # noqa: F401
	can_use_app,  # noqa: F401, E402
	clear_scope_cache,
	get_scope,
)
