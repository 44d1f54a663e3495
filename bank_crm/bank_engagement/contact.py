"""Contacting a customer: the routing rule fed with the customer's preferences and consents.

``route_for`` builds ``core.routing.Preferences`` from the Bank Customer Profile (allowed and
preferred channels, do-not-contact, quiet hours, the addresses on file) and the consent ledger,
and asks the one routing rule. ``send`` routes and hands the contact to the outbound layer, or
says why no channel may be used."""

from __future__ import annotations

from datetime import datetime

import frappe
from frappe import _
from frappe.utils import get_datetime, get_time, now_datetime

from bank_crm.core import routing
from bank_crm.core.consent import ConsentRecord

PROFILE = "Bank Customer Profile"
ALLOW_FIELDS = {
	routing.VISIT: "allow_visit",
	routing.PHONE: "allow_phone",
	routing.SMS: "allow_sms",
	routing.EMAIL: "allow_email",
	routing.APP_PUSH: "allow_app_push",
	routing.WECHAT: "allow_wechat",
}


def preferences_of(profile) -> routing.Preferences:
	"""``profile``: a Bank Customer Profile document or dict with its contact fields."""
	get = profile.get
	reachable = {routing.VISIT}
	if get("mobile_no"):
		reachable.add(routing.PHONE)  # a number a gateway cannot text may still be called
		if not get("mobile_unusable"):
			reachable.add(routing.SMS)
	if get("email_id"):
		reachable.add(routing.EMAIL)
	if get("wechat_id") and not get("wechat_unusable"):
		reachable.add(routing.WECHAT)
	if get("app_user_id") and not get("app_push_unusable"):
		reachable.add(routing.APP_PUSH)
	return routing.Preferences(
		allowed=frozenset(c for c, f in ALLOW_FIELDS.items() if get(f)),
		preferred=get("preferred_channel") or None,
		do_not_contact=bool(get("do_not_contact")),
		quiet_start=get_time(get("quiet_hours_start")) if get("quiet_hours_start") else None,
		quiet_end=get_time(get("quiet_hours_end")) if get("quiet_hours_end") else None,
		reachable=frozenset(reachable),
	)


def consents_of(rows) -> list[ConsentRecord]:
	return [
		ConsentRecord(
			r.get("purpose"),
			r.get("channel"),
			get_datetime(r.get("granted_on")),
			get_datetime(r.get("withdrawn_on")) if r.get("withdrawn_on") else None,
		)
		for r in rows or ()
		if r.get("purpose") and r.get("granted_on")
	]


CONTACT_FIELDS = (
	"name",
	"mobile_no",
	"email_id",
	"wechat_id",
	"app_user_id",
	"mobile_unusable",
	"wechat_unusable",
	"app_push_unusable",
	"preferred_channel",
	"do_not_contact",
	"quiet_hours_start",
	"quiet_hours_end",
	*ALLOW_FIELDS.values(),
)


def route_for(customer: str, content_class: str, at: datetime | None = None, exclude=()) -> routing.Route:
	"""The routing decision for ``customer`` (never by a channel in ``exclude``); a customer
	without a profile cannot be routed. Reads the profile's contact fields and its consents —
	two small queries, not the profile document with all its tables (the daily jobs route
	thousands of customers)."""
	# plain SQL over this module's own column names: the query builder parses each field name
	# with sqlparse, which cost more than the query here
	found = frappe.db.sql(
		f"select {', '.join(f'`{f}`' for f in CONTACT_FIELDS)} from `tab{PROFILE}` where customer = %s",
		(customer,),
		as_dict=True,
	)
	if not found:
		return routing.Route(None, "The customer has no bank profile, so no contact preferences or consents")
	profile = found[0]
	consents = frappe.db.sql(
		"""select purpose, channel, granted_on, withdrawn_on from `tabBank Consent Record`
		where parent = %s and parenttype = %s and parentfield = 'consents'""",
		(profile.name, PROFILE),
		as_dict=True,
	)
	return routing.route(
		content_class,
		preferences_of(profile),
		consents_of(consents),
		get_datetime(at or now_datetime()),
		exclude=exclude,
	)


def route_many(customers: list[str], content_class: str, at: datetime | None = None) -> dict:
	"""``route_for`` for many customers in two queries: customer → (decision, profile row with
	the contact fields); a customer without a profile is absent."""
	if not customers:
		return {}
	from bank_crm.utils.bulk import in_list

	profiles = frappe.db.sql(
		f"""select customer, {", ".join(f"`{f}`" for f in CONTACT_FIELDS)} from `tab{PROFILE}`
		where customer in {in_list(sorted(set(customers)))}""",
		as_dict=True,
	)
	ledger: dict[str, list] = {}
	if profiles:
		for row in frappe.db.sql(
			f"""select parent, purpose, channel, granted_on, withdrawn_on from `tabBank Consent Record`
			where parenttype = %s and parentfield = 'consents' and parent in {in_list([p.name for p in profiles])}""",
			(PROFILE,),
			as_dict=True,
		):
			ledger.setdefault(row.parent, []).append(row)
	moment = get_datetime(at or now_datetime())
	return {
		p.customer: (
			routing.route(content_class, preferences_of(p), consents_of(ledger.get(p.name)), moment),
			p,
		)
		for p in profiles
	}


def explain(decision: routing.Route) -> str:
	"""The decision in the user's language."""
	args = [
		_(a) if isinstance(a, str) and a in routing.CHANNELS + routing.CONTENT_CLASSES else a
		for a in decision.args
	]
	if not decision.ok and decision.rejected:
		args[-1] = "; ".join(f"{_(r.channel)} — {_(r.reason)}" for r in decision.rejected)
	text = _(decision.reason).format(*args)
	if decision.send_after:
		text += " " + _("(deferred to {0}: quiet hours)").format(
			decision.send_after.strftime("%Y-%m-%d %H:%M")
		)
	return text


def send(
	customer: str,
	content_class: str,
	subject: str,
	message: str,
	*,
	channel: str | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	assign_to: str | None = None,
	due_date=None,
	idempotency_key: str | None = None,
) -> tuple[str | None, str, str | None]:
	"""Route (unless ``channel`` is given and allowed) and dispatch.

	Returns (outbound message or None, explanation, channel)."""
	from bank_crm.bank_engagement import outbound

	decision = route_for(customer, content_class)
	if channel and channel != decision.channel:
		# the sender asked for a channel: allowed only if the rule would accept it
		forced = route_for(customer, content_class, exclude=[c for c in routing.CHANNELS if c != channel])
		decision = forced
	if not decision.ok:
		return None, explain(decision), None
	name = outbound.dispatch(
		customer,
		decision.channel,
		subject,
		message,
		content_class=content_class,
		reference_doctype=reference_doctype,
		reference_name=reference_name,
		assign_to=assign_to,
		due_date=due_date,
		idempotency_key=idempotency_key,
		send_after=decision.send_after,
	)
	return name, explain(decision), decision.channel
