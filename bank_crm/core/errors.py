"""Domain errors raised by the core, carrying a field name and a translatable message.

The message is an English template with ``{0}``-style placeholders; the Frappe layer passes
it through ``_()`` so the user reads it in their own language.
"""

from __future__ import annotations


class CoreValidationError(ValueError):
	"""Bad input for one field: ``field`` names it, ``message`` says why (untranslated template)."""

	def __init__(self, field: str, message: str, *args: object):
		self.field = field
		self.message = message
		self.args_ = tuple(args)
		super().__init__(f"{field}: {message.format(*args)}")
