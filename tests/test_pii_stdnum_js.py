"""PII detectors on stdnum-js's Korean RRN, business number and Japanese corporate number
specs (src/kr/rrn.spec.ts, src/kr/brn.spec.ts, src/jp/cn.spec.ts), copied into
tests/data/pii_external/stdnum_js.jsonl. Business and corporate numbers stay unmasked."""

import pytest
from pii_external_cases import case_id, load, predicted, split

EXCLUDED = {
    "971013-9019902": "sex digit 9 (born 1800-1899): no holder is alive, and '-9' after a date is a serial",
}

CASES, _ = split(load("stdnum_js"), EXCLUDED)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_stdnum_js_case(case):
    assert predicted(case) == sorted(case["spans"]), case["source"]
