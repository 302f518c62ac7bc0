"""CONTRACT.md, the ledger of the rules the sandbox enforces, stays true to the code.

Every row names Amazon's evidence and the tests of both sides; a test that is renamed or removed
fails here, so the ledger cannot keep pointing at nothing.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "seller_central_sandbox" / "CONTRACT.md"
TEST_REFERENCE = re.compile(r"`?([\w/]+\.py)::(\w+)")
# Amazon's evidence: a model of ../shared/sp-api-models, Amazon's documentation, or a thread of
# Amazon's public repositories.
EVIDENCE = re.compile(
    r"\.json|developer-docs|models#\d+|docs#\d+|sdk#\d+|selling-partner-api-\w+#\d+"
)


def ledger_rows() -> list[list[str]]:
    rows = []
    in_rules = False
    for line in LEDGER.read_text().splitlines():
        if line.startswith("## "):
            in_rules = line.startswith("## Rules")
        if in_rules and line.startswith("|") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[0] != "#":
                rows.append(cells)
    return rows


def test_the_ledger_has_a_row_per_rule_with_amazons_evidence():
    rows = ledger_rows()

    assert len(rows) >= 30
    for number, rule, evidence, sandbox_test, client_test in rows:
        # A row of ours alone (the sync command's exit status) says so instead.
        assert EVIDENCE.search(evidence) or "no Amazon rule" in evidence, (number, evidence)
        assert TEST_REFERENCE.search(sandbox_test + client_test), (number, rule)


def test_every_defect_of_the_contract_issue_has_its_rows():
    text = " ".join(" ".join(row) for row in ledger_rows())

    missing = [number for number in range(1, 13) if f"(D{number})" not in text]

    assert missing == []


@pytest.mark.parametrize(
    "reference",
    sorted(
        {
            match.group(0).strip("`")
            for row in ledger_rows()
            for match in TEST_REFERENCE.finditer(row[3] + " " + row[4])
        }
    ),
)
def test_every_test_the_ledger_names_exists(reference):
    path, name = reference.split("::")
    source = ROOT / path

    assert source.is_file(), reference
    assert re.search(rf"^(async )?def {name}\(", source.read_text(), re.MULTILINE), reference
