"""Identity numbers of the PRC: validation, masking and keyed fingerprints.

- Resident identity card number (居民身份证号码, GB 11643-1999): 18 characters, a 6-digit
  administrative division code, the birth date as YYYYMMDD, a 3-digit sequence (odd for men,
  even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X).
- Residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证) and the
  2023 foreign permanent resident ID card (外国人永久居留身份证) use the same layout and check.
- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
  31-character alphabet with a MOD 31 check character.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from bank_crm.core.errors import CoreValidationError

# ID types (the values stored in the profile's Select field)
RESIDENT_ID = "Resident ID Card"
RESIDENCE_PERMIT = "HK/Macao/Taiwan Residence Permit"
FOREIGN_PERMANENT_ID = "Foreign Permanent Resident ID Card"
HK_MACAO_PERMIT = "Mainland Travel Permit for HK/Macao Residents"
TAIWAN_PERMIT = "Mainland Travel Permit for Taiwan Residents"
PASSPORT = "Passport"

ID_TYPES = (RESIDENT_ID, RESIDENCE_PERMIT, FOREIGN_PERMANENT_ID, HK_MACAO_PERMIT, TAIWAN_PERMIT, PASSPORT)
# The types whose number follows the 18-character GB 11643 layout with a birth date inside.
GB11643_TYPES = (RESIDENT_ID, RESIDENCE_PERMIT, FOREIGN_PERMANENT_ID)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits of a mainland administrative division code, plus 81/82/83 (HK, Macao, Taiwan
# residence permits) and 9x (foreign permanent residents, 2023 format).
_PROVINCES = frozenset(
	"11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split()
)
_PERMIT_PREFIXES = ("810000", "820000", "830000")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_HK_MACAO_RE = re.compile(r"^[HM]\d{8}(\d{2})?$")
_TAIWAN_RE = re.compile(r"^\d{8}$")
_PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")


def normalise(value: str | None) -> str:
	"""Upper-case and strip spaces: how people type IDs (lower-case x, stray blanks)."""
	return re.sub(r"\s+", "", value or "").upper()


def id_check_character(first17: str) -> str:
	"""The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
	total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
	return _ID_CHECK[total % 11]


@dataclass(frozen=True)
class ResidentId:
	number: str
	region: str
	birth_date: date
	gender: str  # "Male" or "Female"


def parse_resident_id(value: str, field: str = "id_number", id_type: str = RESIDENT_ID) -> ResidentId:
	"""Validate an 18-character GB 11643 number and return its parts; raise CoreValidationError."""
	number = normalise(value)
	if len(number) != 18:
		raise CoreValidationError(field, "must be 18 characters long, not {0}", len(number))
	if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
		raise CoreValidationError(field, "must be 17 digits followed by a digit or X")
	if id_type == RESIDENCE_PERMIT:
		if not number.startswith(_PERMIT_PREFIXES):
			raise CoreValidationError(field, "a residence permit number starts with 810000, 820000 or 830000")
	elif id_type == FOREIGN_PERMANENT_ID:
		if number[0] != "9":
			raise CoreValidationError(field, "a foreign permanent resident ID number starts with 9")
	elif number[:2] not in _PROVINCES:
		raise CoreValidationError(field, "starts with {0}, which is not a valid region code", number[:2])
	try:
		born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
	except ValueError:
		raise CoreValidationError(field, "contains an impossible birth date {0}", number[6:14]) from None
	if born.year < 1900:
		raise CoreValidationError(field, "contains an impossible birth date {0}", number[6:14])
	expected = id_check_character(number[:17])
	if number[17] != expected:
		raise CoreValidationError(
			field, "has a wrong check digit: the last character should be {0}", expected
		)
	gender = "Male" if int(number[16]) % 2 else "Female"
	return ResidentId(number=number, region=number[:6], birth_date=born, gender=gender)


def validate_id_number(
	id_type: str,
	value: str,
	*,
	date_of_birth: date | None = None,
	gender: str | None = None,
	today: date | None = None,
	field: str = "id_number",
) -> str:
	"""Validate an ID number of the given type and its agreement with the profile.

	Returns the normalised number. For GB 11643 types the embedded birth date must equal the
	profile's date of birth (when given), lie in the past, and the sequence digit's gender must
	agree with the profile's gender when that is Male or Female.
	"""
	number = normalise(value)
	if not number:
		raise CoreValidationError(field, "is required")
	if id_type not in ID_TYPES:
		raise CoreValidationError("id_type", "{0} is not a supported ID type", id_type)
	if id_type in GB11643_TYPES:
		parsed = parse_resident_id(number, field, id_type)
		if today and parsed.birth_date > today:
			raise CoreValidationError(field, "contains a birth date in the future")
		if date_of_birth and parsed.birth_date != date_of_birth:
			raise CoreValidationError(
				field,
				"contains the birth date {0}, which disagrees with the date of birth {1} on the profile",
				parsed.birth_date.isoformat(),
				date_of_birth.isoformat(),
			)
		if gender in ("Male", "Female") and parsed.gender != gender:
			raise CoreValidationError(
				field, "belongs to a {0} holder, but the profile says {1}", parsed.gender, gender
			)
	elif id_type == HK_MACAO_PERMIT:
		if not _HK_MACAO_RE.match(number):
			raise CoreValidationError(field, "must be H or M followed by 8 or 10 digits")
	elif id_type == TAIWAN_PERMIT:
		if not _TAIWAN_RE.match(number):
			raise CoreValidationError(field, "must be 8 digits")
	elif not _PASSPORT_RE.match(number):
		raise CoreValidationError(field, "must be 5 to 20 letters or digits")
	return number


def birth_date_from_id(id_type: str, value: str) -> date | None:
	"""The birth date embedded in a valid GB 11643 number, else None."""
	if id_type not in GB11643_TYPES:
		return None
	try:
		return parse_resident_id(value, id_type=id_type).birth_date
	except CoreValidationError:
		return None


def uscc_check_character(first17: str) -> str:
	"""The GB 32100-2015 check character for the first 17 characters of a credit code."""
	total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
	return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str, field: str = "unified_social_credit_code") -> str:
	"""Validate a unified social credit code and return it normalised."""
	code = normalise(value)
	if not code:
		raise CoreValidationError(field, "is required")
	if len(code) != 18:
		raise CoreValidationError(field, "must be 18 characters long, not {0}", len(code))
	if not _USCC_RE.match(code):
		raise CoreValidationError(
			field, "may only use digits and the letters ABCDEFGHJKLMNPQRTUWXY (no I, O, S, V or Z)"
		)
	expected = uscc_check_character(code[:17])
	if code[17] != expected:
		raise CoreValidationError(
			field, "has a wrong check character: the last character should be {0}", expected
		)
	return code


def mask(value: str | None, keep_start: int = 4, keep_end: int = 4, char: str = "*") -> str:
	"""Mask an identifier for display: ``110101199003071234`` → ``1101**********1234``.

	Short values keep less so that at least half of the characters are always hidden.
	"""
	value = normalise(value)
	if not value:
		return ""
	n = len(value)
	while keep_start + keep_end > n // 2 and (keep_start or keep_end):
		if keep_start >= keep_end and keep_start:
			keep_start -= 1
		else:
			keep_end -= 1
	return (
		value[:keep_start] + char * (n - keep_start - keep_end) + (value[n - keep_end :] if keep_end else "")
	)


def fingerprint(secret: bytes, id_type: str, value: str) -> str:
	"""A keyed, one-way fingerprint of an ID for duplicate detection without the plain number.

	HMAC-SHA256 with a site secret: an 18-digit ID has too little entropy for a bare hash (its
	birth date and region are guessable), so without the key the fingerprint reveals nothing.
	"""
	if not secret:
		raise ValueError("a secret key is required")
	message = f"{id_type}|{normalise(value)}".encode()
	return hmac.new(secret, message, hashlib.sha256).hexdigest()
