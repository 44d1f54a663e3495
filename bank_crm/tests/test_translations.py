"""On a real site: every user-facing string of bank_crm has a Simplified Chinese translation,
ours or the host's (Frappe's and ERPNext's translations as the site loads them)."""

from frappe.tests.utils import FrappeTestCase
from frappe.translate import get_all_translations

from bank_crm.tests import strings


class TestTranslations(FrappeTestCase):
	def test_every_user_facing_string_reads_in_chinese(self):
		translated = get_all_translations("zh")
		with_context = {key.rsplit(":", 1)[0] for key in translated if ":" in key}
		missing = {
			text: path
			for text, path in strings.user_facing().items()
			if not translated.get(text) and text not in with_context
		}
		self.assertEqual(missing, {})

	def test_our_translation_wins_over_the_hosts(self):
		translated = get_all_translations("zh")
		self.assertEqual(translated.get("Draft"), strings.translations()["Draft"])
