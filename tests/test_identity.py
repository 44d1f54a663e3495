from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import identity
from bank_crm.core.errors import CoreValidationError

# GB 11643-1999's own example number, and a female one built from it
VALID_ID = "11010519491231002X"


def make_id(region="110105", born=date(1990, 3, 7), seq="123"):
	first17 = f"{region}{born:%Y%m%d}{seq}"
	return first17 + identity.id_check_character(first17)


def test_standard_example_is_valid():
	parsed = identity.parse_resident_id(VALID_ID)
	assert parsed.birth_date == date(1949, 12, 31)
	assert parsed.gender == "Female"
	assert parsed.region == "110105"


def test_lower_case_x_and_spaces_are_normalised():
	assert identity.validate_id_number(identity.RESIDENT_ID, " 110105 19491231002x ") == VALID_ID


@pytest.mark.parametrize(
	"value, fragment",
	[
		("11010519491231002", "18 characters"),
		("110105194912310021", "check digit"),
		("1101051949123100XX", "17 digits"),
		("990105194912310028", "region code"),
		("110105194902300020", "impossible birth date"),
	],
)
def test_bad_resident_ids_are_refused_with_reason(value, fragment):
	with pytest.raises(CoreValidationError) as err:
		identity.validate_id_number(identity.RESIDENT_ID, value)
	assert err.value.field == "id_number"
	assert fragment in str(err.value)


def test_wrong_check_digit_names_the_expected_character():
	with pytest.raises(CoreValidationError) as err:
		identity.validate_id_number(identity.RESIDENT_ID, VALID_ID[:17] + "1")
	assert err.value.args_ == ("X",)


def test_birth_date_must_match_profile():
	number = make_id(born=date(1990, 3, 7))
	assert identity.validate_id_number(identity.RESIDENT_ID, number, date_of_birth=date(1990, 3, 7))
	with pytest.raises(CoreValidationError) as err:
		identity.validate_id_number(identity.RESIDENT_ID, number, date_of_birth=date(1990, 3, 8))
	assert "disagrees" in str(err.value)


def test_birth_date_in_future_is_refused():
	number = make_id(born=date(2030, 1, 1))
	with pytest.raises(CoreValidationError):
		identity.validate_id_number(identity.RESIDENT_ID, number, today=date(2026, 1, 1))


def test_gender_must_match_sequence_digit():
	male = make_id(seq="123")  # 3 is odd
	identity.validate_id_number(identity.RESIDENT_ID, male, gender="Male")
	identity.validate_id_number(identity.RESIDENT_ID, male, gender="Other")
	with pytest.raises(CoreValidationError):
		identity.validate_id_number(identity.RESIDENT_ID, male, gender="Female")


def test_residence_permit_and_foreign_id_prefixes():
	identity.validate_id_number(identity.RESIDENCE_PERMIT, make_id(region="810000"))
	with pytest.raises(CoreValidationError):
		identity.validate_id_number(identity.RESIDENCE_PERMIT, make_id(region="110105"))
	identity.validate_id_number(identity.FOREIGN_PERMANENT_ID, make_id(region="933156"))


@pytest.mark.parametrize(
	"id_type, good, bad",
	[
		(identity.HK_MACAO_PERMIT, "H12345678", "X12345678"),
		(identity.TAIWAN_PERMIT, "12345678", "1234567"),
		(identity.PASSPORT, "E12345678", "E1"),
	],
)
def test_other_document_formats(id_type, good, bad):
	assert identity.validate_id_number(id_type, good) == good
	with pytest.raises(CoreValidationError):
		identity.validate_id_number(id_type, bad)


def test_unknown_id_type_names_the_type_field():
	with pytest.raises(CoreValidationError) as err:
		identity.validate_id_number("Library Card", "123")
	assert err.value.field == "id_type"


@given(
	st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
	st.integers(0, 999),
	st.integers(0, 16),
	st.sampled_from("0123456789"),
)
def test_any_single_digit_change_breaks_the_check(born, seq, position, digit):
	number = make_id(born=born, seq=f"{seq:03d}")
	identity.parse_resident_id(number)
	changed = number[:position] + digit + number[position + 1 :]
	if changed != number:
		# MOD 11-2 detects every single-character substitution
		assert identity.id_check_character(changed[:17]) != changed[17]


# A real-world unified social credit code layout; check character computed by the standard.
def make_uscc(body="91350100M000100Y4"):
	return body + identity.uscc_check_character(body)


def test_known_uscc_is_valid():
	# 91350100M000100Y43 is the GB 32100-2015 worked example
	assert identity.uscc_check_character("91350100M000100Y4") == "3"
	assert identity.validate_uscc("91350100m000100y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
	"value, fragment",
	[
		("91350100M000100Y4", "18 characters"),
		("91350100M000100Y44", "check character"),
		("91350100M0001O0Y43", "letters"),
		("9135A100M000100Y43", "letters"),
	],
)
def test_bad_uscc_is_refused(value, fragment):
	with pytest.raises(CoreValidationError) as err:
		identity.validate_uscc(value)
	assert err.value.field == "unified_social_credit_code"
	assert fragment in str(err.value)


@given(st.text(alphabet=identity.USCC_ALPHABET, min_size=10, max_size=10), st.integers(0, 999999))
def test_generated_uscc_validates(tail, region):
	body = "91" + f"{region:06d}" + tail[:9]
	assert identity.validate_uscc(make_uscc(body))


def test_mask_keeps_four_and_four():
	assert identity.mask("110101199003071234") == "1101**********1234"
	assert identity.mask("") == ""


@given(st.text(alphabet="0123456789X", min_size=1, max_size=30))
def test_mask_hides_at_least_half(value):
	masked = identity.mask(value)
	assert len(masked) == len(value)
	assert masked.count("*") >= len(value) / 2


def test_fingerprint_is_keyed_and_normalised():
	a = identity.fingerprint(b"k1", identity.RESIDENT_ID, VALID_ID)
	assert a == identity.fingerprint(b"k1", identity.RESIDENT_ID, VALID_ID.lower())
	assert a != identity.fingerprint(b"k2", identity.RESIDENT_ID, VALID_ID)
	assert VALID_ID not in a and len(a) == 64
	with pytest.raises(ValueError):
		identity.fingerprint(b"", identity.RESIDENT_ID, VALID_ID)


def test_birth_date_from_id():
	assert identity.birth_date_from_id(identity.RESIDENT_ID, VALID_ID) == date(1949, 12, 31)
	assert identity.birth_date_from_id(identity.PASSPORT, "E12345678") is None
	assert identity.birth_date_from_id(identity.RESIDENT_ID, "bad") is None
