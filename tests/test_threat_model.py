"""docs/threat-model.md lists, for every numbered threat, the tests that cite it; regenerate it when they change."""

from __future__ import annotations

from tests import threat_model


def test_citations_are_parsed_as_written() -> None:
    assert threat_model.cited_numbers("Threats 1 and 3: a wrong passphrase") == {1, 3}
    assert threat_model.cited_numbers("threats 8–11, 19") == {8, 9, 10, 11, 19}
    assert threat_model.cited_numbers("(threat 21) and threat 32") == {21, 32}
    assert threat_model.cited_numbers("Threat: a counterpart's header key") == set()


def test_the_document_is_current() -> None:
    document = threat_model.DOC.read_text(encoding="utf-8")
    threats = threat_model._rows(document)
    assert sorted(threats) == list(range(1, 33)), "the document lists threats 1-32"
    assert threat_model.render(document, threats) == document, (
        "docs/threat-model.md is out of date: run `python -m tests.threat_model`"
    )
