"""STIX 2.1 out and in: one `report` per record, an `identity` per ministry, `note`s for review comments,
TLP 2.0 marking definitions by their fixed ids (TLP 1.0 ids, OpenCTI and extension markings understood on
the way in). Built and serialised with the `stix2` library.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import stix2  # type: ignore[import-untyped]

from store.interop.base import report_uuids
from store.interop.common import (
    MAX_OBJECTS,
    RANK,
    ExportData,
    ImportResult,
    Incoming,
    InteropRefused,
    Vocabulary,
    clean_block,
    clean_line,
    clean_title,
    derived_uuid,
    ministry_uuid,
    most_restrictive,
    parse_timestamp,
)
from store.interop.field_format import FieldFormat
from store.text import quote
from store.vocab import Tlp

if TYPE_CHECKING:
    from store.service import Session

FORMAT = "STIX 2.1"
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: FIRST TLP 2.0 marking definitions, by the fixed ids of the OASIS extension.
TLP2_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
#: TLP 1.0 marking definitions of STIX 2.x (WHITE is CLEAR in TLP 2.0).
TLP1_IDS: dict[str, Tlp] = {
    stix2.TLP_WHITE.id: Tlp.CLEAR,
    stix2.TLP_GREEN.id: Tlp.GREEN,
    stix2.TLP_AMBER.id: Tlp.AMBER,
    stix2.TLP_RED.id: Tlp.RED,
}
KNOWN_MARKINGS: dict[str, Tlp] = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}
#: Identities and marking definitions never change: one fixed timestamp keeps their ids' content stable.
FIXED_CREATED = "2022-10-01T00:00:00.000Z"
LIAISON_SOURCE = "liaison"


def tlp2_marking(tlp: Tlp) -> stix2.MarkingDefinition:
    """The TLP 2.0 marking definition object of `tlp` (as the OASIS extension publishes it)."""
    return stix2.MarkingDefinition(
        id=TLP2_IDS[tlp],
        created=FIXED_CREATED,
        name=f"TLP:{tlp.value}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value.lower()}},
    )


def identity_id(code: str) -> str:
    """The STIX id of a ministry's identity."""
    return f"identity--{ministry_uuid(code)}"


def report_id(record_uuid: str) -> str:
    """The STIX id of a record's report: UUIDv5 of the record's uuid, so a re-export updates it."""
    return f"report--{report_uuids(record_uuid)[0]}"


def build_bundle(data: ExportData) -> tuple[bytes, int]:
    """The STIX 2.1 bundle of an export's records (serialised by `stix2`) and its object count."""
    objects: list[Any] = []
    used = sorted({r.tlp for r in data.records}, key=list(Tlp).index)
    objects.extend(tlp2_marking(t) for t in used)
    for code in sorted(data.ministries):
        objects.append(
            stix2.Identity(
                id=identity_id(code),
                created=FIXED_CREATED,
                modified=FIXED_CREATED,
                name=data.ministries[code],
                identity_class="organization",
                sectors=["government-national"],
                external_references=[{"source_name": LIAISON_SOURCE, "external_id": code}],
            )
        )
    own = identity_id(data.ministry)
    for rec in data.records:
        marking = [TLP2_IDS[rec.tlp]]
        rid = report_id(rec.uuid)
        refs = sorted({identity_id(rec.origin), own})
        report: dict[str, Any] = {
            "id": rid,
            "created": rec.created_at,
            "modified": rec.updated_at,
            "published": rec.updated_at,
            "name": rec.title,
            "report_types": ["threat-report"],
            "labels": [rec.domain],
            "created_by_ref": identity_id(rec.origin),
            "object_refs": refs,
            "object_marking_refs": marking,
            "external_references": [{"source_name": LIAISON_SOURCE, "external_id": rec.reference}],
        }
        if rec.summary:
            report["description"] = rec.summary
        objects.append(stix2.Report(**report))
        for comment in rec.comments:
            objects.append(
                stix2.Note(
                    id=f"note--{derived_uuid('comment', rec.uuid, comment.officer, comment.action, comment.at.isoformat())}",
                    created=comment.at,
                    modified=comment.at,
                    abstract=f"{comment.action} ({comment.officer})",
                    content=comment.text,
                    authors=[comment.officer],
                    object_refs=[rid],
                    created_by_ref=own,
                    object_marking_refs=marking,
                )
            )
    ids = ",".join(f"{o.id}@{o.get('modified', '')}" for o in objects)
    bundle = stix2.Bundle(id=f"bundle--{derived_uuid('bundle', ids)}", objects=objects)
    return bundle.serialize(pretty=True).encode("utf-8") + b"\n", len(objects)


# ---- import -------------------------------------------------------------------------------------------


def _marking_tlp(obj: dict[str, Any]) -> Tlp | None:
    """The TLP a marking definition object stands for, if it is a TLP marking (1.0, 2.0, extension, OpenCTI)."""
    known = KNOWN_MARKINGS.get(obj.get("id", ""))
    if known is not None:
        return known
    extensions = obj.get("extensions")
    if isinstance(extensions, dict):
        ext = extensions.get(TLP2_EXTENSION)
        if isinstance(ext, dict) and isinstance(ext.get("tlp_2_0"), str):
            return _tlp_word(ext["tlp_2_0"])
    definition = obj.get("definition")
    if obj.get("definition_type") == "tlp" and isinstance(definition, dict) and isinstance(definition.get("tlp"), str):
        return _tlp_word(definition["tlp"])
    if str(obj.get("x_opencti_definition_type", "")).upper() == "TLP" and isinstance(
        obj.get("x_opencti_definition"), str
    ):
        return _tlp_word(obj["x_opencti_definition"])
    return None


def _tlp_word(word: str) -> Tlp | None:
    value = word.strip().upper().removeprefix("TLP:")
    if value == "WHITE":
        return Tlp.CLEAR
    try:
        return Tlp(value)
    except ValueError:
        return None


def _key(obj: dict[str, Any]) -> str:
    name = obj.get("name")
    return f"{obj['id']} ({quote(name, 40)})" if isinstance(name, str) else str(obj["id"])


def parse_bundle(
    session: Session,
    path: Path,
    document: Any,
    vocab: Vocabulary,
    *,
    as_code: str | None,
    tlp: Tlp | None,
    domain: str | None,
) -> tuple[list[Incoming], ImportResult]:
    """The records a STIX bundle brings (checked against the store's vocabulary and text policy)."""
    name = Path(path).name
    if (
        not isinstance(document, dict)
        or document.get("type") != "bundle"
        or not isinstance(document.get("objects"), list)
    ):
        raise InteropRefused(f'{name}: not a STIX bundle (a JSON object with "type": "bundle" and a list of "objects")')
    objects = document["objects"]
    if len(objects) > MAX_OBJECTS:
        raise InteropRefused(f"{name}: more than {MAX_OBJECTS} objects")
    by_id: dict[str, dict[str, Any]] = {}
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) or not isinstance(obj.get("id"), str):
            raise InteropRefused(f"{name}: object {index + 1} has no type or id")
        kind, sep, tail = obj["id"].partition("--")
        if not sep or kind != obj["type"] or len(tail) != 36:
            raise InteropRefused(f"{name}: object {index + 1} has an invalid id {quote(obj['id'])}")
        if obj["id"] in by_id and obj.get("modified") == by_id[obj["id"]].get("modified"):
            raise InteropRefused(f"{name}: object {obj['id']} appears twice")
        current = by_id.get(obj["id"])
        if current is None or str(obj.get("modified", "")) > str(current.get("modified", "")):
            by_id[obj["id"]] = obj  # several versions of one object: the newest wins
    result = ImportResult(Path(path), FORMAT)
    markings = dict(KNOWN_MARKINGS)
    for obj in by_id.values():
        if obj["type"] == "marking-definition":
            found = _marking_tlp(obj)
            if found is not None:
                markings[obj["id"]] = found
    reports = [o for o in by_id.values() if o["type"] == "report"]
    notes_by_report: dict[str, list[dict[str, Any]]] = {}
    for obj in by_id.values():
        kind = obj["type"]
        if kind == "note":
            raw_refs = obj.get("object_refs")
            refs: list[Any] = raw_refs if isinstance(raw_refs, list) else []
            targets = [r for r in refs if isinstance(r, str) and r.startswith("report--") and r in by_id]
            if not targets:
                result.not_imported["note (about no report in the file)"] += 1
            for target in targets:
                notes_by_report.setdefault(target, []).append(obj)
        elif kind not in ("report", "identity", "marking-definition", "extension-definition"):
            result.not_imported[kind if len(kind) <= 40 else kind[:40] + "…"] += 1
    items: list[Incoming] = []
    for report in reports:
        key = _key(report)
        title = clean_title(name, report.get("name"), report["id"])
        summary = clean_block(name, "summary", report.get("description"), report["id"])
        label = _report_tlp(report, markings)
        if label is None:
            if tlp is None:
                raise InteropRefused(
                    f"{name}: {key} has no TLP marking; give the TLP to apply to unmarked reports",
                    field="tlp",
                    reference=report["id"],
                )
            label = tlp
        if label is Tlp.RED:
            raise InteropRefused(
                f"{name}: {key} is TLP:RED, which never comes in through a file", reference=report["id"]
            )
        origin, author = _origin(name, report, by_id, vocab, as_code, key)
        slug = _domain(report, vocab) or domain
        if slug is None:
            labels = (
                [x for x in report.get("labels", []) if isinstance(x, str)]
                if isinstance(report.get("labels"), list)
                else []
            )
            shown = ", ".join(quote(x, 30) for x in labels[:5]) or "none"
            raise InteropRefused(
                f"{name}: {key} has no label naming a domain known here (labels: {shown}); valid: {', '.join(sorted(vocab.domains))}",
                field="domain",
                reference=report["id"],
            )
        created = parse_timestamp(name, report.get("created"), "created time", report["id"])
        modified = parse_timestamp(name, report.get("modified", report.get("created")), "modified time", report["id"])
        item = Incoming(
            key=key,
            uuid=report["id"].partition("--")[2].lower(),
            origin=origin,
            tlp=label,
            domain=slug,
            title=title,
            summary=summary,
            source=f"STIX 2.1 {report['id']} from {author}",
            author=author,
            created_at=created,
            updated_at=max(modified, created),
            reference=_liaison_reference(report),
        )
        for note in notes_by_report.get(report["id"], []):
            note_tlp = _report_tlp(note, markings)
            if note_tlp is not None and note_tlp is not label and _more_restrictive(note_tlp, label):
                result.not_imported["note (more restrictive TLP than its report)"] += 1
                continue
            text = clean_block(name, "note", note.get("content"), note["id"])
            if not text.strip():
                continue
            authors = note.get("authors") if isinstance(note.get("authors"), list) else []
            who = clean_line(name, "author", authors[0], note["id"]) if authors else ""
            at = parse_timestamp(name, note.get("created"), "created time", note["id"])
            item.notes.append((who or author, at, text))
        items.append(item)
    return items, result


def _more_restrictive(a: Tlp, b: Tlp) -> bool:
    return RANK[a] > RANK[b]


def _report_tlp(obj: dict[str, Any], markings: dict[str, Tlp]) -> Tlp | None:
    refs = obj.get("object_marking_refs")
    if not isinstance(refs, list):
        return None
    labels = [markings[r] for r in refs if isinstance(r, str) and r in markings]
    return most_restrictive(labels) if labels else None


def _origin(
    name: str,
    report: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    vocab: Vocabulary,
    as_code: str | None,
    key: str,
) -> tuple[str, str]:
    """The ministry a report comes from (mapped from its creating identity, else `as_code`) and an author name."""
    ref = report.get("created_by_ref")
    identity = by_id.get(ref) if isinstance(ref, str) else None
    code: str | None = None
    author = ""
    if isinstance(ref, str) and ref.startswith("identity--"):
        code = vocab.ministry_by_uuid(ref.partition("--")[2])
    if identity is not None:
        author = clean_line(name, "identity name", identity.get("name"), identity["id"])
        if code is None and isinstance(identity.get("external_references"), list):
            for ext in identity["external_references"]:
                if (
                    isinstance(ext, dict)
                    and ext.get("source_name") == LIAISON_SOURCE
                    and isinstance(ext.get("external_id"), str)
                ):
                    code = ext["external_id"] if ext["external_id"] in vocab.ministries else None
        if code is None and author:
            code = vocab.ministry_by_name(author)
    if code is None:
        if as_code is None:
            who = (
                f"identity {quote(author, 40)} ({ref})"
                if identity is not None
                else (f"{ref}, not in the file" if isinstance(ref, str) else "no identity")
            )
            raise InteropRefused(
                f"{name}: {key} was created by {who}, which is no known ministry; name the ministry it comes from",
                field="as",
                reference=report["id"],
            )
        code = as_code
    return code, author or vocab.ministries.get(code, code)


def _domain(report: dict[str, Any], vocab: Vocabulary) -> str | None:
    labels = report.get("labels")
    if not isinstance(labels, list):
        return None
    for label in labels:
        if isinstance(label, str) and label.strip().lower() in vocab.domains:
            return label.strip().lower()
    return None


def _liaison_reference(report: dict[str, Any]) -> str | None:
    for ext in report.get("external_references", []) if isinstance(report.get("external_references"), list) else []:
        if (
            isinstance(ext, dict)
            and ext.get("source_name") == LIAISON_SOURCE
            and isinstance(ext.get("external_id"), str)
        ):
            return str(ext["external_id"])
    return None


#: STIX 2.1 bundles out (a report per record, notes for its review comments) and in.
STIX = FieldFormat(FORMAT, "stix", "STIX file", build_bundle, parse_bundle)
export_stix = STIX.export
import_stix = STIX.import_file


def looks_like_stix(document: Any) -> bool:
    """True for a STIX bundle (for format detection)."""
    return isinstance(document, dict) and document.get("type") == "bundle"


__all__ = [
    "FORMAT",
    "STIX",
    "TLP1_IDS",
    "TLP2_IDS",
    "export_stix",
    "identity_id",
    "import_stix",
    "report_id",
    "tlp2_marking",
]
