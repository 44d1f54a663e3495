"""Factories and a REST client for bank_crm's integration tests."""

import json
import random
from datetime import date
from threading import Thread
from unittest.mock import patch

import frappe
from frappe.utils import get_test_client
from frappe.utils.password import update_password

from bank_crm.demo.generator import credit_code, resident_id

TEST_DOMAIN = "test.bank-crm.example"


def make_branch(code: str, name: str | None = None, members=()) -> str:
	"""A branch with ``members`` as (user, role) pairs; reused when it exists."""
	if frappe.db.exists("Bank Branch", code):
		branch = frappe.get_doc("Bank Branch", code)
		known = {(m.user, m.member_role) for m in branch.members}
		for user, role in members:
			if (user, role) not in known:
				branch.append("members", {"user": user, "member_role": role})
		branch.save(ignore_permissions=True)
		return code
	frappe.get_doc(
		{
			"doctype": "Bank Branch",
			"branch_code": code,
			"branch_name": name or f"Test Branch {code}",
			"members": [{"user": u, "member_role": r} for u, r in members],
		}
	).insert(ignore_permissions=True)
	return code


TEST_PASSWORD = "Test@Bank2026"


def make_user(local: str, roles, language: str = "en") -> str:
	"""A desk user with ``roles`` and the password ``TEST_PASSWORD``; reused when it exists."""
	email = f"{local}@{TEST_DOMAIN}"
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": local,
				"send_welcome_email": 0,
				"language": language,
				"new_password": TEST_PASSWORD,
				"roles": [{"role": r} for r in roles],
			}
		)
		user.flags.ignore_password_policy = True
		# Frappe throttles user creation (60 a minute); a full test run on a fresh site makes more
		with patch("frappe.core.doctype.user.user.throttle_user_creation"):
			user.insert(ignore_permissions=True)
	else:
		user = frappe.get_doc("User", email)
		if user.language != language:
			user.language = language
			user.save(ignore_permissions=True)
		user.add_roles(*roles)
		update_password(email, TEST_PASSWORD)
	return email


def api_token(user: str) -> str:
	"""``Authorization`` header value for ``user`` (API key and secret, made on demand)."""
	doc = frappe.get_doc("User", user)
	secret = frappe.generate_hash(length=15)
	if not doc.api_key:
		doc.api_key = frappe.generate_hash(length=15)
	doc.api_secret = secret
	doc.save(ignore_permissions=True)
	return f"token {doc.api_key}:{secret}"


def customer_defaults() -> dict:
	group = frappe.db.get_value("Customer Group", {"is_group": 0}, "name")
	territory = frappe.db.get_value("Territory", {"is_group": 0}, "name")
	return {"customer_group": group, "territory": territory}


def make_customer(customer_name: str, customer_type: str = "Individual", rm: str | None = None) -> str:
	"""An ERPNext Customer; with ``rm``, already in that RM's portfolio (as an RM's own insert is)."""
	doc = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": customer_name,
			"customer_type": customer_type,
			"bank_relationship_manager": rm,
			**customer_defaults(),
		}
	).insert(ignore_permissions=True)
	return doc.name


_seq = [random.randint(0, 499)]


def new_id(born: date = date(1985, 6, 15), male: bool = True) -> str:
	"""A valid resident ID in a region (Tianjin Heping) that the demo data does not use."""
	_seq[0] += 1
	return resident_id("120101", born, _seq[0] % 500, male)


def new_credit_code() -> str:
	_seq[0] += 1
	return credit_code("120101", _seq[0], random.Random(_seq[0]))


def individual(customer: str, rm: str | None = None, branch: str | None = None, **values) -> dict:
	born = values.pop("date_of_birth", date(1985, 6, 15))
	return {
		"doctype": "Bank Customer Profile",
		"customer": customer,
		"profile_type": "Individual",
		"relationship_manager": rm,
		"branch": branch,
		"legal_name": "测试客户",
		"id_type": "Resident ID Card",
		"id_number": values.pop("id_number", None) or new_id(born),
		"date_of_birth": born,
		"gender": "Male",
		**values,
	}


def corporate(customer: str, rm: str | None = None, branch: str | None = None, **values) -> dict:
	return {
		"doctype": "Bank Customer Profile",
		"customer": customer,
		"profile_type": "Corporate",
		"relationship_manager": rm,
		"branch": branch,
		"unified_social_credit_code": values.pop("unified_social_credit_code", None) or new_credit_code(),
		"business_scale": "Small",
		**values,
	}


def make_profile(data: dict):
	return frappe.get_doc(data).insert(ignore_permissions=True)


class Api:
	"""Requests to the site's WSGI app as a given user, in a thread like a real request.

	The request runs on its own database connection: commit what it must see first.
	"""

	def __init__(self, token: str | None = None):
		self.token = token
		self.site = frappe.local.site
		self.client = get_test_client(use_cookies=not token)

	@classmethod
	def session(cls, user: str, password: str = TEST_PASSWORD) -> "Api":
		"""Logged in like the desk (a session cookie), so the user's language applies."""
		api = cls()
		response = api.post("/api/method/login", {"usr": user, "pwd": password})
		assert response.status_code == 200, response.text
		return api

	def request(
		self, method: str, path: str, *, params=None, data=None, body=None, content_type=None, headers=None
	):
		client = self.client
		result = {}
		kwargs = {"headers": {"Accept": "application/json", **(headers or {})}}
		if body is not None:  # sent as it is (malformed JSON, numbers Python would not write)
			kwargs["data"] = body
			kwargs["content_type"] = content_type or "application/json"
		if self.token:
			kwargs["headers"]["Authorization"] = self.token
		if params:
			kwargs["query_string"] = {
				k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()
			}
		if data is not None:
			kwargs["json"] = data

		def run():
			with patch("frappe.app.get_site_name", return_value=self.site):
				result["response"] = getattr(client, method)(path, **kwargs)

		thread = Thread(target=run)
		thread.start()
		thread.join()
		return result["response"]

	def get(self, path, **params):
		return self.request("get", path, params=params)

	def post(self, path, data=None):
		return self.request("post", path, data=data or {})

	def put(self, path, data):
		return self.request("put", path, data=data)

	def post_raw(self, path, body: str | bytes, content_type: str = "application/json", headers=None):
		return self.request("post", path, body=body, content_type=content_type, headers=headers)


def server_messages(response) -> str:
	"""All messages a failed request carried, as one string."""
	body = response.json or {}
	messages = [body.get("exception") or ""]
	for raw in json.loads(body.get("_server_messages") or "[]"):
		messages.append(json.loads(raw).get("message", ""))
	return " ".join(messages)
