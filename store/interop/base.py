"""Limits, TLP ranks, derived ids and the refusal error shared by STIX and MISP, out and in."""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Sequence
from datetime import timedelta

from store.errors import LiaisonError
from store.vocab import Tlp

#: Largest STIX or MISP file an import reads (bytes).
MAX_FILE = 32 * 1024 * 1024
#: Most objects (STIX objects, MISP reports and attributes) one file may hold.
MAX_OBJECTS = 200_000
MAX_TITLE = 300
MAX_TEXT = 200_000
MAX_AUTHOR = 64

#: The namespace of every UUIDv5 Liaison derives for the field's formats.
NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_URL, "urn:liaison:interop")

#: TLP labels from most open to most restrictive.
RANK = {Tlp.CLEAR: 0, Tlp.GREEN: 1, Tlp.AMBER: 2, Tlp.AMBER_STRICT: 3, Tlp.RED: 4}
DEFAULT_CEILING = Tlp.GREEN
#: Ceilings above GREEN: only when asked for explicitly, and only by a reviewer.
RESTRICTED_CEILINGS = frozenset({Tlp.AMBER, Tlp.AMBER_STRICT})
#: TLP labels whose records may carry the ministry's review comments out (never CLEAR: comments are not public).
COMMENT_TLPS = frozenset({Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT})

REFERENCE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}-\d{4}-\d{5,9}", re.ASCII)
#: How far in the future an imported date may lie (clocks differ); anything later is refused.
MAX_SKEW = timedelta(days=1)


class InteropRefused(LiaisonError):
    """A STIX or MISP file that is not imported (or an export not written); the store is unchanged."""


def most_restrictive(labels: Sequence[Tlp]) -> Tlp:
    """The most restrictive of several TLP labels."""
    return max(labels, key=RANK.__getitem__)


def derived_uuid(*parts: str) -> str:
    """A UUIDv5 in Liaison's namespace: the same parts always give the same id."""
    return str(uuidlib.uuid5(NAMESPACE, ":".join(parts)))


def report_uuids(record_uuid: str) -> tuple[str, str]:
    """The ids Liaison gives a record in the field's formats: its STIX report's and its MISP Event Report's.

    A file import holding either id is a copy of that record (made by its origin's export): the origin's
    withdrawal of the record reaches the copy too (`store.withdrawals`)."""
    return derived_uuid("record", record_uuid), derived_uuid("misp-report", record_uuid)


def ministry_uuid(code: str) -> str:
    """The stable id of a ministry's identity (STIX identity, MISP organisation)."""
    return derived_uuid("ministry", code)
