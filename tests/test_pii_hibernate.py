"""RRN detection on hibernate-validator's Korean RRN validator tests (@KorRRN, check-digit
modes ALWAYS and NEVER), copied into tests/data/pii_external/hibernate_kor_rrn.jsonl."""

import pytest
from pii_external_cases import case_id, load, predicted, split

_ALWAYS_BAD_CHECK = (
    "861224-2567481",
    "960223-2499371",
    "790707-1133361",
    "700901-2889651",
    "760609-2511101",
    "930831-1527511",
    "760314-2131702",
    "760307-1071851",
    "771118-1179991",
    "750519-1404601",
)
EXCLUDED = {
    # The same strings are valid in hibernate's NEVER mode, which the project follows for a
    # dashed number: check digits are random since October 2020.
    **{
        t: "dashed: valid in hibernate's NEVER mode; the project does not gate on the check digit"
        for t in _ALWAYS_BAD_CHECK
    },
    **{
        t.replace("-", ""): "a bare 13-digit run counts as an RRN only with a valid check digit or a registration word"
        for t in _ALWAYS_BAD_CHECK
    },
}

ALL = load("hibernate_kor_rrn")
CASES, SKIPPED = split(ALL, EXCLUDED)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_hibernate_case(case):
    assert predicted(case) == sorted(case["spans"]), case["source"]


def test_dashed_numbers_with_a_bad_check_digit_are_still_masked():
    # hibernate's ALWAYS mode rejects them; the project masks them as its NEVER mode accepts them
    for case in SKIPPED:
        if "-" in case["text"]:
            assert predicted(case) == [[0, len(case["text"]), "rrn"]]
