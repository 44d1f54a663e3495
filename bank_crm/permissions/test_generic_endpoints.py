"""The host's generic endpoints, walked as a relationship manager against another RM's records.

For every whitelisted method of Frappe and ERPNext that reads records by doctype, name or
filters (the list below; how it was drawn up is in the README's security section), RM A asks
about RM B's records and about records that do not exist. The two answers must be the same
(after the asked-for name is blanked out): a count, a value, an error — anything that differs
would tell A that B's record exists or what it holds. No answer may carry B's data.

The second half does the same for field levels: a complaint handler, who may not read a
profile's permission-level-1 fields, cannot filter, sort or group by them through any endpoint.
"""

import json
import re

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils.global_search import sync_global_search

from bank_crm.permissions import clear_scope_cache
from bank_crm.tests.factories import (
	Api,
	api_token,
	corporate,
	make_branch,
	make_customer,
	make_profile,
	make_user,
)

PROFILE = "Bank Customer Profile"
REQUEST = "Bank Service Request"
MISSING = "NO-SUCH-RECORD-{0}"
EXC_ID = re.compile(r'\\*"__frappe_exc_id\\*": \\*"[0-9a-f]+\\*"')


def walk(doctype, target, related):
	"""(label, HTTP verb, path, arguments) for every read path that takes ``target``."""
	name_filter = json.dumps({"name": target})
	list_filter = json.dumps([[doctype, "name", "=", target]])
	m = "/api/method/"
	yield from (
		(
			"client.get_count",
			"get",
			m + "frappe.client.get_count",
			{"doctype": doctype, "filters": name_filter},
		),
		(
			"v2 client.get_count",
			"get",
			"/api/v2/method/frappe.client.get_count",
			{"doctype": doctype, "filters": name_filter},
		),
		("client.get by name", "get", m + "frappe.client.get", {"doctype": doctype, "name": target}),
		(
			"client.get by filters",
			"get",
			m + "frappe.client.get",
			{"doctype": doctype, "filters": name_filter},
		),
		(
			"client.get_value",
			"get",
			m + "frappe.client.get_value",
			{"doctype": doctype, "fieldname": "name", "filters": name_filter},
		),
		(
			"client.get_list",
			"get",
			m + "frappe.client.get_list",
			{"doctype": doctype, "filters": name_filter},
		),
		(
			"client.validate_link",
			"get",
			m + "frappe.client.validate_link",
			{"doctype": doctype, "docname": target, "fields": '["name"]'},
		),
		(
			"client.has_permission",
			"get",
			m + "frappe.client.has_permission",
			{"doctype": doctype, "docname": target},
		),
		(
			"client.get_doc_permissions",
			"get",
			m + "frappe.client.get_doc_permissions",
			{"doctype": doctype, "docname": target},
		),
		(
			"client.is_document_amended",
			"get",
			m + "frappe.client.is_document_amended",
			{"doctype": doctype, "docname": target},
		),
		(
			"reportview.get",
			"get",
			m + "frappe.desk.reportview.get",
			{"doctype": doctype, "fields": '["name"]', "filters": list_filter},
		),
		(
			"reportview.get_count",
			"get",
			m + "frappe.desk.reportview.get_count",
			{"doctype": doctype, "filters": list_filter},
		),
		(
			"reportview.get_sidebar_stats",
			"get",
			m + "frappe.desk.reportview.get_sidebar_stats",
			{"doctype": doctype, "stats": '["owner"]', "filters": list_filter},
		),
		(
			"reportview.get_filter_dashboard_data",
			"get",
			m + "frappe.desk.reportview.get_filter_dashboard_data",
			{"doctype": doctype, "stats": '[{"name": "owner", "type": "Link"}]', "filters": list_filter},
		),
		(
			"listview.get_group_by_count assigned_to",
			"get",
			m + "frappe.desk.listview.get_group_by_count",
			{"doctype": doctype, "current_filters": name_filter, "field": "assigned_to"},
		),
		(
			"listview.get_group_by_count owner",
			"get",
			m + "frappe.desk.listview.get_group_by_count",
			{"doctype": doctype, "current_filters": name_filter, "field": "owner"},
		),
		(
			"search.search_link",
			"get",
			m + "frappe.desk.search.search_link",
			{"doctype": doctype, "txt": target, "ignore_user_permissions": 1},
		),
		(
			"search.search_widget",
			"get",
			m + "frappe.desk.search.search_widget",
			{"doctype": doctype, "txt": target, "ignore_user_permissions": 1},
		),
		(
			"search.get_link_title",
			"get",
			m + "frappe.desk.search.get_link_title",
			{"doctype": doctype, "docname": target},
		),
		(
			"form.utils.get_next",
			"get",
			m + "frappe.desk.form.utils.get_next",
			{"doctype": doctype, "value": target, "prev": 0},
		),
		("form.load.getdoc", "get", m + "frappe.desk.form.load.getdoc", {"doctype": doctype, "name": target}),
		(
			"form.load.get_docinfo",
			"get",
			m + "frappe.desk.form.load.get_docinfo",
			{"doctype": doctype, "name": target},
		),
		(
			"form.load.get_communications",
			"get",
			m + "frappe.desk.form.load.get_communications",
			{"doctype": doctype, "name": target},
		),
		(
			"assign_to.add (no one)",
			"post",
			m + "frappe.desk.form.assign_to.add",
			{"doctype": doctype, "name": target, "assign_to": []},
		),
		(
			"assign_to.remove_multiple",
			"post",
			m + "frappe.desk.form.assign_to.remove_multiple",
			{"doctype": doctype, "names": [target]},
		),
		(
			"document_follow.get_follow_users",
			"get",
			m + "frappe.desk.form.document_follow.get_follow_users",
			{"doctype": doctype, "doc_name": target},
		),
		(
			"document_follow.follow_document",
			"post",
			m + "frappe.desk.form.document_follow.follow_document",
			{"doctype": doctype, "doc_name": target, "user": "x"},
		),
		(
			"linked_with.get",
			"get",
			m + "frappe.desk.form.linked_with.get",
			{"doctype": doctype, "docname": target},
		),
		(
			"linked_with.get_submitted_linked_docs",
			"get",
			m + "frappe.desk.form.linked_with.get_submitted_linked_docs",
			{"doctype": doctype, "name": target},
		),
		(
			"notifications.get_open_count",
			"get",
			m + "frappe.desk.notifications.get_open_count",
			{"doctype": doctype, "name": target},
		),
		(
			"link_preview.get_preview_data",
			"get",
			m + "frappe.desk.link_preview.get_preview_data",
			{"doctype": doctype, "docname": target},
		),
		("share.get_users", "get", m + "frappe.share.get_users", {"doctype": doctype, "name": target}),
		(
			"realtime.can_subscribe_doc",
			"get",
			m + "frappe.realtime.can_subscribe_doc",
			{"doctype": doctype, "docname": target},
		),
		(
			"file.get_attached_images",
			"get",
			m + "frappe.core.api.file.get_attached_images",
			{"doctype": doctype, "names": json.dumps([target])},
		),
		(
			"address.get_default_address",
			"get",
			m + "frappe.contacts.doctype.address.address.get_default_address",
			{"doctype": doctype, "name": target},
		),
		(
			"like.toggle_like",
			"post",
			m + "frappe.desk.like.toggle_like",
			{"doctype": doctype, "name": target, "add": "Yes"},
		),
		(
			"printview.get_html_and_style",
			"get",
			m + "frappe.www.printview.get_html_and_style",
			{"doc": json.dumps({"doctype": doctype, "name": target})},
		),
		(
			"client.set_value (take over)",
			"post",
			m + "frappe.client.set_value",
			{"doctype": doctype, "name": target, "fieldname": related["owner_field"], "value": related["me"]},
		),
		("rest GET", "get", f"/api/resource/{doctype}/{target}", {}),
		(
			"rest PUT (take over)",
			"put",
			f"/api/resource/{doctype}/{target}",
			{related["owner_field"]: related["me"]},
		),
		("v2 document GET", "get", f"/api/v2/document/{doctype}/{target}", {}),
		(
			"number_card.get_result children",
			"get",
			m + "frappe.desk.doctype.number_card.number_card.get_result",
			{
				"doc": json.dumps(
					{
						"function": "Count",
						"document_type": "Bank Consent Record",
						"parent_document_type": PROFILE,
					}
				),
				"filters": json.dumps([["Bank Consent Record", "parent", "=", related["profile"]]]),
			},
		),
		(
			"client.get_list children",
			"get",
			m + "frappe.client.get_list",
			{
				"doctype": "Bank Consent Record",
				"parent": PROFILE,
				"fields": '["name", "purpose"]',
				"filters": json.dumps({"parent": related["profile"]}),
			},
		),
		(
			"client.get_list Communication Link",
			"get",
			m + "frappe.client.get_list",
			{
				"doctype": "Communication Link",
				"parent": "Communication",
				"fields": '["parent"]',
				"filters": json.dumps({"link_name": target}),
			},
		),
		(
			"client.get_list File",
			"get",
			m + "frappe.client.get_list",
			{
				"doctype": "File",
				"fields": '["name", "file_url"]',
				"filters": json.dumps({"attached_to_name": target}),
			},
		),
		(
			"client.get_list Tag Link",
			"get",
			m + "frappe.client.get_list",
			{"doctype": "Tag Link", "fields": '["name"]', "filters": json.dumps({"document_name": target})},
		),
		(
			"erpnext get_balance_on",
			"get",
			m + "erpnext.accounts.utils.get_balance_on",
			{"party_type": "Customer", "party": target},
		),
		(
			"erpnext get_party_details",
			"get",
			m + "erpnext.accounts.party.get_party_details",
			{"party_type": "Customer", "party": target},
		),
	)


class TestGenericEndpoints(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm_a = make_user("gen-rm-a", ["Relationship Manager"], language="zh")
		cls.rm_b = make_user("gen-rm-b", ["Relationship Manager"])
		cls.handler = make_user("gen-handler", ["Complaint Handler"])
		make_branch("T-GEN", members=[(cls.rm_a, "Relationship Manager"), (cls.rm_b, "Relationship Manager")])
		tag = frappe.generate_hash(length=8)
		cls.secret_name = f"泄露探针{tag}"
		cls.mine = make_customer(f"本人客户{tag}", customer_type="Company", rm=cls.rm_a)
		cls.theirs = make_customer(cls.secret_name, customer_type="Company", rm=cls.rm_b)
		cls.my_profile = make_profile(corporate(cls.mine, cls.rm_a, annual_revenue=1_000_000)).name
		profile = make_profile(
			{
				**corporate(cls.theirs, cls.rm_b, annual_revenue=98_765_432.1),
				"consents": [
					{
						"purpose": "Marketing",
						"channel": "SMS",
						"granted_on": "2026-01-05 10:00:00",
						"evidence_type": "Signed Form",
						"evidence": f"探针证据{tag}",
					}
				],
			}
		)
		cls.their_profile = profile.name
		cls.their_request = (
			frappe.get_doc(
				{
					"doctype": REQUEST,
					"customer": cls.theirs,
					"request_type": "Inquiry",
					"urgency": "Normal",
					"channel": "Phone",
					"subject": f"探针请求{tag}",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		cls.their_signal = (
			frappe.get_doc(
				{
					"doctype": "Bank Need Signal",
					"customer": cls.theirs,
					"customer_name": cls.secret_name,
					"need_category": "Churn Risk",
					"status": "Open",
					"relationship_manager": cls.rm_b,
					"summary": f"探针信号{tag}",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": f"statement-{tag}.txt",
				"content": f"探针文件{tag}",
				"is_private": 1,
				"attached_to_doctype": "Customer",
				"attached_to_name": cls.theirs,
			}
		).insert(ignore_permissions=True)
		cls.secrets = (
			cls.secret_name,
			"98765432",
			f"探针证据{tag}",
			f"探针请求{tag}",
			f"statement-{tag}",
			cls.rm_b,
		)
		sync_global_search()
		cls.tokens = {u: api_token(u) for u in (cls.rm_a, cls.handler)}
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		from bank_crm.utils.traces import remove_traces

		for doctype, names in (
			("Bank Need Signal", [cls.their_signal]),
			(REQUEST, [cls.their_request]),
			(PROFILE, [cls.my_profile, cls.their_profile]),
			("Customer", [cls.mine, cls.theirs]),
		):
			remove_traces([doctype], names)
			if doctype == REQUEST:
				frappe.db.delete("Bank Request Update", {"parent": ("in", names)})
				frappe.db.delete("Bank Request Task", {"parent": ("in", names)})
			if doctype == PROFILE:
				frappe.db.delete("Bank Consent Record", {"parent": ("in", names)})
				frappe.db.delete("__Auth", {"doctype": PROFILE, "name": ("in", names)})
			frappe.db.delete(doctype, {"name": ("in", names)})
		frappe.db.commit()
		super().tearDownClass()

	def call(self, user, verb, path, args):
		api = Api(self.tokens[user])
		if verb == "get":
			return api.get(path, **args)
		if verb == "put":
			return api.put(path, args)
		return api.post(path, args)

	def normalised(self, response, target):
		body = response.get_data(as_text=True).replace(target, "<T>")
		body = EXC_ID.sub("", body)  # a random id per error
		try:
			data = json.loads(body)
		except ValueError:
			return response.status_code, body
		data.pop("_debug_messages", None)
		return response.status_code, json.dumps(data, sort_keys=True, ensure_ascii=False)

	def assert_blind(self, doctype, target, owner_field="bank_relationship_manager", me=None):
		missing = MISSING.format(frappe.generate_hash(length=6))
		related = {"owner_field": owner_field, "me": me or self.rm_a, "profile": self.their_profile}
		leaks = []
		for label, verb, path, args in walk(doctype, target, related):
			real = self.call(self.rm_a, verb, path, args)
			frappe.db.rollback()
			ghost_args = json.loads(json.dumps(args).replace(target, missing))
			ghost = self.call(self.rm_a, verb, path.replace(target, missing), ghost_args)
			frappe.db.rollback()
			text = real.get_data(as_text=True)
			found = [s for s in self.secrets if s in text.replace(target, "<T>")]
			if found:
				leaks.append(f"{label}: answer carries {found}")
			if self.normalised(real, target) != self.normalised(ghost, missing):
				leaks.append(
					f"{label}: answers differ for B's record and a missing one: "
					f"{real.status_code} {text[:160]!r} vs {ghost.status_code} {ghost.get_data(as_text=True)[:160]!r}"
				)
		self.assertEqual(leaks, [], "\n".join(leaks))

	def test_another_rms_customer_is_invisible_to_every_generic_endpoint(self):
		self.assert_blind("Customer", self.theirs)

	def test_another_rms_profile_is_invisible_to_every_generic_endpoint(self):
		self.assert_blind(PROFILE, self.their_profile, owner_field="relationship_manager")

	def test_another_rms_service_request_is_invisible_to_every_generic_endpoint(self):
		self.assert_blind(REQUEST, self.their_request, owner_field="customer", me=self.mine)

	def test_another_rms_need_signal_is_invisible_to_every_generic_endpoint(self):
		self.assert_blind("Bank Need Signal", self.their_signal, owner_field="relationship_manager")

	def test_nothing_was_taken_over(self):
		self.assert_blind("Customer", self.theirs)
		self.assertEqual(frappe.db.get_value("Customer", self.theirs, "bank_relationship_manager"), self.rm_b)
		self.assertEqual(frappe.db.get_value(PROFILE, self.their_profile, "relationship_manager"), self.rm_b)
		self.assertEqual(frappe.db.get_value(REQUEST, self.their_request, "customer"), self.theirs)
		self.assertFalse(frappe.db.exists("Document Follow", {"ref_docname": self.theirs}))

	def test_searching_by_name_finds_nothing_of_theirs(self):
		m = "/api/method/"
		for path, args in (
			(m + "frappe.utils.global_search.search", {"text": self.secret_name}),
			(m + "frappe.desk.search.search_link", {"doctype": "Customer", "txt": self.secret_name}),
			(m + "frappe.desk.search.search_widget", {"doctype": "ToDo", "txt": self.secret_name}),
			(m + "bank_crm.permissions.global_search.frappe_search", {"text": self.secret_name}),
			(m + "erpnext.templates.pages.search_help.search", {"text": self.secret_name}),
		):
			response = self.call(self.rm_a, "get", path, args)
			self.assertNotIn(self.secret_name, response.get_data(as_text=True), path)

	def test_own_records_still_work(self):
		api = Api(self.tokens[self.rm_a])
		self.assertEqual(api.get(f"/api/resource/Customer/{self.mine}").status_code, 200)
		count = api.get(
			"/api/method/frappe.client.get_count", doctype="Customer", filters=json.dumps({"name": self.mine})
		)
		self.assertEqual(count.json["message"], 1)
		link = api.get("/api/method/frappe.client.validate_link", doctype="Customer", docname=self.mine)
		self.assertEqual(link.json["message"]["name"], self.mine)
		found = api.get("/api/method/frappe.desk.search.search_link", doctype="Customer", txt=self.mine)
		self.assertEqual([r["value"] for r in found.json["message"]], [self.mine])

	def test_sql_written_filters_are_refused_on_every_doctype(self):
		api = Api(self.tokens[self.rm_a])
		probe = f"exists(select 1 from `tabCustomer` c where c.name = {frappe.db.escape(self.theirs)})"
		for path, args in (
			(
				"frappe.desk.reportview.get_stats",
				{
					"doctype": "ToDo",
					"stats": '["status"]',
					"filters": json.dumps([["ToDo", "name", "like", "%"], probe]),
				},
			),
			(
				"frappe.desk.search.search_widget",
				{"doctype": "ToDo", "txt": "", "filters": json.dumps([probe])},
			),
			(
				"frappe.desk.calendar.get_events",
				{
					"doctype": "ToDo",
					"start": "2000-01-01",
					"end": "2100-01-01",
					"field_map": json.dumps(
						{"start": f"ifnull(({probe}), date)", "end": "date", "title": "description"}
					),
				},
			),
		):
			response = api.get("/api/method/" + path, **args)
			self.assertTrue(
				400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
			)

	def test_a_file_url_cannot_be_borrowed(self):
		url = frappe.db.get_value("File", {"attached_to_name": self.theirs}, "file_url")
		response = Api(self.tokens[self.rm_a]).post(
			"/api/resource/File",
			{
				"file_url": url,
				"is_private": 1,
				"attached_to_doctype": "Customer",
				"attached_to_name": self.mine,
			},
		)
		self.assertEqual(response.status_code, 403, response.text)
		self.assertFalse(frappe.db.exists("File", {"file_url": url, "attached_to_name": self.mine}))

	# -- field levels --------------------------------------------------------------------------
	def test_fields_above_the_users_level_cannot_filter_sort_or_group_anywhere(self):
		m = "/api/method/"
		revenue = json.dumps([["annual_revenue", ">", 1_000_000]])
		for label, verb, path, args in (
			("rest filter", "get", f"/api/resource/{PROFILE}", {"filters": revenue}),
			(
				"rest filter, other case",
				"get",
				f"/api/resource/{PROFILE}",
				{"filters": json.dumps([[PROFILE, "Annual_Revenue", ">", 1]])},
			),
			("rest sort", "get", f"/api/resource/{PROFILE}", {"order_by": "annual_revenue desc"}),
			("v2 count", "get", f"/api/v2/doctype/{PROFILE}/count", {"filters": revenue}),
			(
				"client.get_count",
				"get",
				m + "frappe.client.get_count",
				{"doctype": PROFILE, "filters": revenue},
			),
			(
				"client.get_value",
				"get",
				m + "frappe.client.get_value",
				{"doctype": PROFILE, "fieldname": "name", "filters": revenue},
			),
			(
				"client.get by filters",
				"get",
				m + "frappe.client.get",
				{"doctype": PROFILE, "filters": json.dumps({"annual_revenue": [">", 1]})},
			),
			(
				"reportview.get group by",
				"get",
				m + "frappe.desk.reportview.get",
				{"doctype": PROFILE, "fields": '["name"]', "group_by": "income_band"},
			),
			(
				"group by count",
				"get",
				m + "frappe.desk.listview.get_group_by_count",
				{"doctype": PROFILE, "current_filters": "[]", "field": "income_band"},
			),
			(
				"sidebar stats",
				"get",
				m + "frappe.desk.reportview.get_sidebar_stats",
				{"doctype": PROFILE, "stats": '["income_band"]'},
			),
			(
				"search filters",
				"get",
				m + "frappe.desk.search.search_widget",
				{"doctype": PROFILE, "txt": "", "filters": revenue},
			),
			(
				"child field",
				"get",
				f"/api/resource/{PROFILE}",
				{"filters": json.dumps([["Bank Product Maturity", "amount", ">", 1]])},
			),
			("score", "get", f"/api/resource/{PROFILE}", {"filters": json.dumps([["value_score", ">", 50]])}),
		):
			response = self.call(self.handler, verb, path, args)
			self.assertIn(
				response.status_code, (403, 417), (label, response.status_code, response.text[:300])
			)
		allowed = self.call(
			self.handler, "get", f"/api/resource/{PROFILE}", {"filters": json.dumps([["tier", "is", "set"]])}
		)
		self.assertEqual(allowed.status_code, 200, allowed.text)
