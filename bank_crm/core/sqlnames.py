"""The column names a caller-supplied SQL fragment (an ORDER BY, a GROUP BY, a filter's field
expression) can refer to — over-approximated, so that no reference slips through.

MariaDB resolves column names case-insensitively and accepts them quoted or bare, with or
without a table prefix; every such spelling comes out here as one lower-case name.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"`([^`]*)`|\"([^\"]*)\"")
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def identifiers(fragment) -> set[str]:
	"""Every name in ``fragment``, lower-cased: quoted names whole, bare words by themselves."""
	if fragment is None:
		return set()
	text = str(fragment)
	names = {(a or b).strip().lower() for a, b in _QUOTED.findall(text)}
	names.update(word.lower() for word in _BARE.findall(_QUOTED.sub(" ", text)))
	return names
