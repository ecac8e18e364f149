"""Value parsers: each accepted form and each named edge case, checked against hand-written answers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioa_analysis.ingest import parsing as P


def S(*values):
    return pd.Series(list(values), dtype="string")


@pytest.mark.parametrize(
    ("raw", "expected", "status"),
    [
        ("2024-09-02", "2024-09-02", "ok"),  # ISO (DECA API)
        ("2024-09-02T00:00:00.000Z", "2024-09-02", "ok"),  # ISO with time part
        ("2024-09-02 00:00:00", "2024-09-02", "ok"),  # spreadsheet datetime as text
        ("02/09/2024", "2024-09-02", "ok"),  # JJ/MM/AAAA, day first
        ("2/9/2024", "2024-09-02", "ok"),  # no zero padding
        ("02/09/24", "2024-09-02", "ok"),  # JJ/MM/AA, AA <= 40 -> 20AA
        ("01/01/40", "2040-01-01", "ok"),  # pivot: 40 -> 2040
        ("01/01/41", "1941-01-01", "ok"),  # pivot: 41 -> 1941
        ("05011987", "1987-01-05", "ok"),  # SIFA JJMMAAAA
        ("5011987", "1987-01-05", "ok"),  # SIFA date that lost its leading zero in a spreadsheet
        ("20240902", "2024-09-02", "ok"),  # AAAAMMJJ when the day-first reading is impossible
        ("45537", "2024-09-02", "ok"),  # Excel serial
        ("45537.5", "2024-09-02", "ok"),  # Excel serial with a time fraction
        ("29/02/2024", "2024-02-29", "ok"),  # leap day
        ("29/02/2023", None, "impossible"),  # not a leap year
        ("31/02/2024", None, "impossible"),  # 31 February
        ("2024-13-01", None, "impossible"),  # month 13
        ("31042024", None, "impossible"),  # 31 April, compact
        ("01/01/1850", None, "impossible"),  # year out of range
        ("Plus de 2 semaines", None, "unparseable"),  # text in a date column (ML export)
        ("", None, "missing"),
        ("   ", None, "missing"),
        (None, None, "missing"),
    ],
)
def test_parse_dates_forms(raw, expected, status):
    out = P.parse_dates_detailed(S(raw))
    assert out["status"].iloc[0] == status
    value = out["value"].iloc[0]
    assert (pd.isna(value) and expected is None) or value == pd.Timestamp(expected)


def test_excel_serial_matches_the_excel_epoch():
    # independent computation: Excel's day 0 is 1899-12-30 (after the 1900 leap-year bug)
    for n in (36526, 40000, 45537):
        got = P.parse_dates(S(str(n))).iloc[0]
        assert got == pd.Timestamp(dt.date(1899, 12, 30) + dt.timedelta(days=n))


def test_parse_dates_keeps_index_and_dtype():
    s = pd.Series(["02/09/2024", None, "02/09/2024"], index=[10, 20, 30], dtype="string")
    out = P.parse_dates(s)
    assert list(out.index) == [10, 20, 30]
    assert str(out.dtype) == "datetime64[ns]"
    assert out.isna().tolist() == [False, True, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=20))
def test_parse_dates_never_raises_on_odd_cells(values):
    out = P.parse_dates_detailed(pd.Series(values, dtype="string"))
    assert len(out) == len(values)
    assert set(out["status"]) <= {"ok", "missing", "impossible", "unparseable"}
    assert out["value"].notna().eq(out["status"] == "ok").all()


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_parse_dates_roundtrip_every_form(d):
    forms = [d.isoformat(), d.strftime("%d/%m/%Y"), d.strftime("%d%m%Y")]
    out = P.parse_dates(S(*forms))
    assert (out == pd.Timestamp(d)).all()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("oui", True),
        ("Non", False),
        ("VRAI", True),
        ("faux", False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        ("O", True),
        ("N", False),
        (" Oui ", True),
        ("1.0", True),
        ("peut-être", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_booleans(raw, expected):
    got = P.parse_booleans(S(raw)).iloc[0]
    assert (pd.isna(got) and expected is None) or got is expected or got == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("H", "M"),
        ("F", "F"),
        ("M", "M"),
        ("1", "M"),
        ("2", "F"),
        ("Mme", "F"),
        ("M.", "M"),
        ("Masculin", "M"),
        ("Féminin", "F"),
        ("FEMININ", "F"),
        ("homme", "M"),
        ("Femme", "F"),
        ("Mlle", "F"),
        ("3", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_sex(raw, expected):
    got = P.parse_sex(S(raw)).iloc[0]
    assert (pd.isna(got) and expected is None) or got == expected


def test_codes():
    assert P.normalise_uai(S("0410590u", "410590U", " 0410590U")).tolist() == ["0410590U"] * 3
    assert (
        P.normalise_siret(
            S(
                "444 922 389 00010",
                "444.922.389-00010",
                "44492238900010.0",
                "4.4492238900010E+13",
                "4,449223890001E+13",
            )
        ).tolist()
        == ["44492238900010"] * 5
    )
    # not enough significant digits: cannot be recovered, no invented digits
    assert P.normalise_siret(S("4.4492E+13")).isna().all()
    # lost leading zero (SIREN starting with 0)
    assert P.normalise_siret(S("1234567890123")).tolist() == ["01234567890123"]
    assert P.normalise_naf(S("56.10a", "5610A", "96.02 A")).tolist() == ["5610A", "5610A", "9602A"]
    # CFD: MC code 01023401 lost its zero; a 7-digit code with an unknown padded prefix is left alone
    assert P.normalise_cfd(S("1023401", "50022109", "9999999")).tolist() == [
        "01023401",
        "50022109",
        "9999999",
    ]
    assert P.normalise_postcode(S("1000", "41000.0", "41000")).tolist() == ["01000", "41000", "41000"]
    assert P.normalise_contract_id(S("31202310001351", "031202310001351", "X-12")).tolist() == [
        "031202310001351",
        "031202310001351",
        "X-12",
    ]
    assert P.normalise_code(S("16", "1.0", "9999"), width=4).tolist() == ["0016", "0001", "9999"]
    assert P.normalise_rncp(S("35400", "RNCP35400")).tolist() == ["RNCP35400"] * 2
    assert P.parse_integers(S("74", "74.0", "1 234", "-1", "x")).tolist() == [74, 74, 1234, pd.NA, pd.NA]


def test_siret_validity_flag():
    # real-looking SIRETs pass Luhn, test ones fail (docs/reference/FORMATS.md 4.4); La Poste exception
    got = P.siret_is_valid(S("44492238900010", "13002526500013", "80478874200011", "35600000000048", None))
    assert got.tolist() == [True, True, False, True, pd.NA]


# --------------------------------------------------------------------------------------------- fast paths
# The normalisers skip values already in canonical form (a cheap Arrow test) and parse the others once
# per distinct value; long label columns go straight to the per-distinct path. Both paths must give
# exactly what the plain parser gives on every value.

NORMALISERS = [
    P.normalise_uai,
    P.normalise_siret,
    P.normalise_naf,
    P.normalise_cfd,
    P.normalise_postcode,
    P.normalise_contract_id,
    P.normalise_rncp,
    P.normalise_text,
]

# characters that matter to the normalisers: digits, letters of both cases, separators, spaces of
# several kinds, accents, the float/scientific forms
CODE_TEXT = st.text(alphabet="0123456789AaUuEe.,- \t\u00a0\u202féÉ+", max_size=17)


def _slow(fn, values):
    """The undecorated parser, value by value (no fast path, no per-distinct broadcast)."""
    return [fn.slow(pd.Series([v], dtype="string")).iloc[0] for v in values]


@pytest.mark.parametrize("fn", NORMALISERS, ids=lambda f: f.__name__)
@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.none(), CODE_TEXT), max_size=30))
def test_normaliser_fast_path_equals_the_plain_parser(fn, values):
    got = fn(pd.Series(values, dtype="string")).tolist()
    assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in _slow(fn, values)]


@pytest.mark.parametrize(
    ("fn", "canonical"),
    [
        (P.normalise_uai, ["0410590U", "0751234J"]),
        (P.normalise_siret, ["44492238900010", "00000000000000"]),
        (P.normalise_naf, ["5610A", "9602B"]),
        (P.normalise_cfd, ["50022109", "36T23301"]),
        (P.normalise_postcode, ["41000", "01000"]),
        (P.normalise_contract_id, ["031202310001351"]),
        (P.normalise_rncp, ["RNCP35400", "RNCP1"]),
        (P.normalise_text, ["CAP cuisine", "a b"]),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_values_passing_the_canonical_test_are_left_as_they_are(fn, canonical):
    arr = P.arrow_strings(pd.Series(canonical, dtype="string"))
    assert P.bool_numpy(fn.canonical(arr)).all()
    assert _slow(fn, canonical) == canonical


@pytest.mark.parametrize(
    ("fn", "not_canonical"),
    [
        (P.normalise_uai, ["410590U", "0410590u", " 0410590U", "0410590UU"]),
        (P.normalise_siret, ["1234567890123", "444 922 389 00010", "4.4492238900010E+13"]),
        (P.normalise_naf, ["56.10A", "5610a", "56100"]),
        (P.normalise_cfd, ["1023401", "5002210a", "50022109 "]),
        (P.normalise_postcode, ["1000", "41000.0", "41 000"]),
        (P.normalise_contract_id, ["31202310001351", "31202310001351.0"]),
        (P.normalise_rncp, ["35400", "rncp35400", "RNCP 35400"]),
        (P.normalise_text, [" a", "a ", "a  b", "a\tb", "", "é  b"]),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_values_that_need_work_fail_the_canonical_test(fn, not_canonical):
    arr = P.arrow_strings(pd.Series(not_canonical, dtype="string"))
    assert not P.bool_numpy(fn.canonical(arr)).any()


def test_long_columns_take_both_paths_and_agree():
    # 60 000 rows: the sample test picks the per-distinct path for a label column and the canonical
    # test for a high-cardinality one; a few values in each need work
    ids = pd.Series([f"{i:015d}" for i in range(60_000)], dtype="string")
    ids.iloc[[5, 77, 59_999]] = ["1", "2.0", " 3 "]
    got = P.normalise_contract_id(ids)
    assert got.iloc[[5, 77, 59_999]].tolist() == ["000000000000001", "000000000000002", "000000000000003"]
    assert got.iloc[:5].tolist() == ids.iloc[:5].tolist()
    labels = pd.Series(["CAP  cuisine", " BTS MCO", "Bac pro"] * 20_000, dtype="string")
    assert P.normalise_text(labels).unique().tolist() == ["CAP cuisine", "BTS MCO", "Bac pro"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="0123456789", min_size=14, max_size=14),
            st.text(alphabet="0123456789 .A", max_size=16),
        ),
        max_size=40,
    )
)
def test_siret_validity_matches_python_stdnum(values):
    from stdnum.fr import siret  # the independent implementation

    got = P.siret_is_valid(pd.Series(values, dtype="string")).tolist()
    assert got == [pd.NA if v is None else siret.is_valid(v) for v in values]


def test_siret_validity_on_luhn_valid_numbers_and_la_poste():
    from stdnum import luhn
    from stdnum.fr import siret

    values = []
    for i in range(300):
        siren = f"{(i * 7919) % 10**8:08d}"
        siren += luhn.calc_check_digit(siren)
        body = siren + f"{i % 10**4:04d}"
        values += [body + luhn.calc_check_digit(body), body + "0"]
    values += [f"356000000{i:05d}" for i in range(0, 500, 7)]  # La Poste: digit sum multiple of 5
    got = P.siret_is_valid(pd.Series(values, dtype="string")).tolist()
    assert got == [siret.is_valid(v) for v in values]
    assert 0 < sum(got) < len(got)


def test_fixed_width_helper():
    arr = P.arrow_strings(pd.Series(["ab", "cd"], dtype="string")).slice(1)
    assert P.fixed_width_bytes(arr, 2).tobytes() == b"cd"
