"""Files: nobody gets a file by pointing a new File record at someone else's stored content.

Frappe serves a private file to anyone who may read *some* File record with its URL; a new
File record that reuses the URL of a customer's attachment (``/api/resource/File``,
``add_attachments``, e-mail attachments by name) would hand the content to its creator.
"""

import frappe
from frappe import _


def validate(doc, method=None):
	if not doc.is_new() or not doc.file_url or frappe.session.user == "Administrator" or _uploaded():
		return
	for name in frappe.get_all("File", filters={"file_url": doc.file_url}, pluck="name"):
		if not frappe.has_permission("File", "read", doc=name):
			frappe.throw(
				_("You may not attach {0}: the file belongs to a record you cannot open.").format(
					doc.file_url
				),
				frappe.PermissionError,
			)


def _uploaded() -> bool:
	"""Whether this request brought the file's content itself (an upload that Frappe may store
	under an existing identical file's URL), rather than only naming a URL."""
	request = getattr(frappe.local, "request", None)
	if request is not None and request.files:
		return True
	return bool(frappe.form_dict.get("filedata") or frappe.form_dict.get("content"))
