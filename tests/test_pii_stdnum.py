"""PII detectors on python-stdnum's doctests for Korean RRNs (tests/test_kr_rrn.doctest),
Korean business numbers (tests/test_kr_brn.doctest) and Japanese corporate numbers
(tests/test_jp_cn.doctest), copied into tests/data/pii_external/python_stdnum.jsonl.

Business and corporate numbers name companies, not people: none of them may be masked
as any kind.
"""

import pytest
from pii_external_cases import case_id, load, predicted, split

EXCLUDED = {
    "9710139019902": "sex digit 9 (born 1800-1899): no holder is alive, and '-9' after a date is a serial",
    "971013-9019902": "sex digit 9 (born 1800-1899): no holder is alive, and '-9' after a date is a serial",
    "991231-4019906": "born 2099-12-31: a future birth date (stdnum's own allow_future=False rejects it too)",
}

CASES, _ = split(load("python_stdnum"), EXCLUDED)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_python_stdnum_case(case):
    assert predicted(case) == sorted(case["spans"]), case["source"]


def test_the_business_and_corporate_numbers_are_there():
    # the copied lists of valid numbers, not only the corner cases
    files = {c["source"].split("::")[0] for c in CASES if c.get("stdnum_valid")}
    assert {"tests/test_kr_brn.doctest", "tests/test_jp_cn.doctest", "tests/test_kr_rrn.doctest"} <= files
    assert sum(c["source"] == "tests/test_kr_brn.doctest::numbers" for c in CASES) > 100
