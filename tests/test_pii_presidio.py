"""PII detectors on Microsoft Presidio's recognizer test cases (phone, e-mail, credit card,
IP, IBAN, Korean RRN/FRN and passport), copied into tests/data/pii_external/presidio.jsonl.

Only the kinds a Presidio test covers are compared: its IBAN test holding a US phone
number says nothing about phones. IBANs are masked as `acc`, RRN and FRN as `rrn`.
"""

import pytest
from pii_external_cases import case_id, load, predicted, split

# Cases outside what the project masks, with the reason.
EXCLUDED = {
    "My Israeli number is 09-7625400": "domestic numbers without '+' are read for Korea, Japan and North America only",
    "My CN number is 13812345678": "domestic numbers without '+' are read for Korea, Japan and North America only",
    "My US number is (415) 555-0132, and my international one is 91-415-555-0132": "a country code without '+' is read only for Korea and Japan (82-, 81-)",
    "Use local ipv6 ::": "'::' is the unspecified address: no host (Presidio scores it 0.05-0.15)",
    "src=:: dst=::1": "'::' is the unspecified address: no host (Presidio scores it 0.05-0.15)",
    "Unspecified ::": "'::' is the unspecified address: no host",
    "::/0": "the default route names no host",
    "::/128": "the unspecified address names no host",
    "0.0.0.0/0": "the default route names no host",
    # The address is masked, its prefix length stays: "<|ip|>/24" tells the network size,
    # which identifies nobody (Presidio masks "192.168.1.0/24" whole).
    **{
        t: "the prefix length after a masked address stays in the text"
        for t in (
            "192.168.1.0/24",
            "10.0.0.0/8",
            "192.168.1.1/32",
            "2001:db8::/32",
            "::1/128",
            "fe80::1%eth0/64",
            "::ffff:192.168.1.0/96",
            "64:ff9b::192.0.2.0/96",
            "Subnet: 192.168.1.0/24",
            "Prefix: 2001:db8::/32",
            "Route is 10.0.0.0/8.",
            "Use 2001:db8::/32.",
        )
    },
    "Default 0.0.0.0": "0.0.0.0 names no host",
    "fe80::/10": "the link-local prefix itself names no host",
    "2001:db8::%eth0/128": "a zone index is read on link-local fe80:: addresses only",
    "192.168.1.1.1": "five dotted numbers are a version or an OID, not an address with a tail",
    "760413-5212134": "the project's rrn kind covers foreigners too (sex digit 5-8): Presidio's citizen-only recognizer rejects it",
    "000402-6214431": "the project's rrn kind covers foreigners too (sex digit 5-8): Presidio's citizen-only recognizer rejects it",
    "760413-1212134": "the project's rrn kind covers citizens too: Presidio's foreigner-only recognizer rejects it",
    "000402-2214431": "the project's rrn kind covers citizens too: Presidio's foreigner-only recognizer rejects it",
    **{
        t: "a bare 13-digit run counts as an RRN only with a valid check digit or a registration word nearby"
        " (barcodes and serials share the shape); Presidio scores it 0.5"
        for t in ("9601211234567", "0005053637892", "9111245678901", "0005056637892")
    },
    **{
        t: "a passport number counts only next to a passport word; Presidio scores a bare one 0.05-0.1"
        for t in (
            "M123A4567",
            "m456B7890",
            "d789C1234",
            "S012D5678",
            "M345E9012",
            "M678f3456",
            "M901g7890",
            "M12345678",
            "m87654321",
            "d11223344",
            "s99887766",
            "M123A4567 and M456B7890",
        )
    },
}

CASES, SKIPPED = split(load("presidio"), EXCLUDED)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_presidio_case(case):
    assert predicted(case) == sorted(case["spans"]), case["source"]


def test_cidr_masks_the_address_and_keeps_the_prefix_length():
    for case in SKIPPED:
        if "cidr" in case["source"] and case["spans"] and predicted(case) and "::%" not in case["text"]:
            ((start, end, kind),) = case["spans"]
            ((p_start, p_end, p_kind),) = predicted(case)
            assert (p_start, p_kind) == (start, kind) and case["text"][p_end] == "/"
