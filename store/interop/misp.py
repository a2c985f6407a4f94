"""MISP event JSON out and in: one event per export (built with `pymisp`'s `MISPEvent`), one Event Report
per record with the summary as Markdown under a TLP header and footer, `tlp:` tags of the MISP taxonomy
(`tlp:amber+strict` included), the domains as `liaison:domain="…"` tags, distribution "your organisation
only". Review comments are not carried (MISP event reports have no notes of this shape).
"""

from __future__ import annotations

import json
import re
import uuid as uuidlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymisp import MISPEvent, MISPOrganisation

from store.interop.base import report_uuids
from store.interop.common import (
    MAX_OBJECTS,
    ExportData,
    ImportResult,
    Incoming,
    InteropRefused,
    Outgoing,
    Vocabulary,
    clean_block,
    clean_line,
    clean_title,
    derived_uuid,
    ministry_uuid,
    most_restrictive,
)
from store.interop.field_format import FieldFormat
from store.text import quote
from store.vocab import Tlp

if TYPE_CHECKING:
    from store.service import Session

FORMAT = "MISP event"
#: MISP distribution levels: 0 is "your organisation only".
YOUR_ORGANISATION_ONLY = 0
DOMAIN_TAG = re.compile(r'liaison:domain="([a-z][a-z0-9-]{1,39})"')
#: The Markdown an Event Report carries: a TLP header, the record's tags, the summary, a TLP footer.
REPORT_TEMPLATE = re.compile(
    r"\*\*TLP:(?P<tlp>[A-Z+]+)\*\*\n\n"
    r"- Domain: (?P<domain>[a-z][a-z0-9-]{1,39})\n"
    r"- Reference: (?P<reference>[A-Z0-9-]{1,40})\n"
    r"- Origin: (?P<origin_name>[^\n]*) \((?P<origin>[A-Z]{2}-[A-Z0-9]{2,12})\)\n\n"
    r"---\n\n(?P<summary>.*)\n\n---\n\n\*\*TLP:(?P=tlp)\*\*\n?",
    re.DOTALL,
)


def tlp_tag(tlp: Tlp) -> str:
    """The MISP taxonomy tag of a TLP label (`tlp:amber+strict`, `tlp:clear`)."""
    return f"tlp:{tlp.value.lower()}"


def report_markdown(rec: Outgoing, origin_name: str) -> str:
    """An Event Report's content: TLP in the header and the footer, as TLP 2.0 asks of documents."""
    return (
        f"**TLP:{rec.tlp.value}**\n\n- Domain: {rec.domain}\n- Reference: {rec.reference}\n- Origin: {origin_name} ({rec.origin})\n\n"
        f"---\n\n{rec.summary}\n\n---\n\n**TLP:{rec.tlp.value}**\n"
    )


def build_event(data: ExportData) -> tuple[bytes, int]:
    """The MISP event JSON (`{"Event": …}`) of an export and how many Event Reports it holds."""
    event = MISPEvent()
    event.uuid = derived_uuid("misp-event", data.ministry, *sorted(r.uuid for r in data.records))
    event.info = f"Liaison export of {data.ministries.get(data.ministry, data.ministry)} ({data.ministry}): {len(data.records)} records"
    event.distribution = YOUR_ORGANISATION_ONLY
    event.threat_level_id = 4  # undefined
    event.analysis = 2  # complete
    newest = max(r.updated_at for r in data.records)
    event.set_date(newest.date())
    event.timestamp = newest
    org = MISPOrganisation()
    org.name = data.ministries.get(data.ministry, data.ministry)
    org.uuid = ministry_uuid(data.ministry)
    event.Orgc = org
    event.add_tag(tlp_tag(most_restrictive([r.tlp for r in data.records])))
    for slug in sorted({r.domain for r in data.records}):
        event.add_tag(f'liaison:domain="{slug}"')
    for rec in data.records:
        event.add_event_report(
            rec.title,
            report_markdown(rec, data.ministries.get(rec.origin, rec.origin)),
            uuid=report_uuids(rec.uuid)[1],
            distribution=YOUR_ORGANISATION_ONLY,
            timestamp=rec.updated_at,
        )
    body = {"Event": json.loads(event.to_json())}
    return json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8") + b"\n", len(data.records)


# ---- import -------------------------------------------------------------------------------------------


def _tag_names(obj: dict[str, Any]) -> list[str]:
    tags = obj.get("Tag")
    if not isinstance(tags, list):
        return []
    return [t["name"] for t in tags if isinstance(t, dict) and isinstance(t.get("name"), str)]


def _tag_tlp(name: str) -> Tlp | None:
    value = name.strip().lower()
    if not value.startswith("tlp:"):
        return None
    word = value[4:].upper()
    if word == "WHITE":
        return Tlp.CLEAR
    try:
        return Tlp(word)
    except ValueError:
        return None


def _uuid(name: str, value: Any, what: str) -> str:
    try:
        return str(uuidlib.UUID(str(value)))
    except ValueError:
        raise InteropRefused(f"{name}: {what} has an invalid uuid {quote(value)}") from None


def _events(name: str, document: Any) -> list[dict[str, Any]]:
    """The events of a MISP file: `{"Event": …}`, `{"response": [{"Event": …}, …]}`, or a bare event."""
    if isinstance(document, dict) and isinstance(document.get("Event"), dict):
        return [document["Event"]]
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        events = [e["Event"] for e in document["response"] if isinstance(e, dict) and isinstance(e.get("Event"), dict)]
        if len(events) == len(document["response"]) and events:
            return events
    if isinstance(document, dict) and isinstance(document.get("info"), str) and "uuid" in document:
        return [document]
    raise InteropRefused(f'{name}: not a MISP event (a JSON object with an "Event")')


def _timestamp(name: str, value: Any, what: str) -> datetime:
    try:
        seconds = int(str(value))
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise InteropRefused(f"{name}: {what} has an invalid timestamp {quote(value)}") from None


def _event_time(name: str, event: dict[str, Any], key: str) -> datetime:
    """When an event was last changed: its `timestamp`, else `publish_timestamp`, else its `date` (midnight UTC)."""
    for field_name in ("timestamp", "publish_timestamp"):
        if field_name in event:
            return _timestamp(name, event[field_name], key)
    if isinstance(event.get("date"), str):
        try:
            return datetime.strptime(event["date"], "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise InteropRefused(f"{name}: {key} has an invalid date {quote(event['date'])}") from None
    raise InteropRefused(f"{name}: {key} has no timestamp and no date")


def _attributes(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = (
        [a for a in event.get("Attribute", []) if isinstance(a, dict)]
        if isinstance(event.get("Attribute"), list)
        else []
    )
    for obj in event.get("Object", []) if isinstance(event.get("Object"), list) else []:
        if isinstance(obj, dict) and isinstance(obj.get("Attribute"), list):
            found += [a for a in obj["Attribute"] if isinstance(a, dict)]
    return found


def parse_events(
    session: Session,
    path: Path,
    document: Any,
    vocab: Vocabulary,
    *,
    as_code: str | None,
    tlp: Tlp | None,
    domain: str | None,
) -> tuple[list[Incoming], ImportResult]:
    """The records a MISP event file brings: one per Event Report, or one per event without reports (the session
    is not needed: a MISP event names no held record)."""
    name = Path(path).name
    events = _events(name, document)
    result = ImportResult(Path(path), FORMAT)
    items: list[Incoming] = []
    total = 0
    for event in events:
        event_uuid = _uuid(name, event.get("uuid"), "an event")
        key = f"event {event_uuid}"
        tags = _tag_names(event)
        event_tlps = [t for t in (_tag_tlp(n) for n in tags) if t is not None]
        event_tlp = most_restrictive(event_tlps) if event_tlps else None
        event_domain = next(
            (m.group(1) for n in tags if (m := DOMAIN_TAG.fullmatch(n)) and m.group(1) in vocab.domains), None
        )
        event_domain = event_domain or next(
            (n.strip().lower() for n in tags if n.strip().lower() in vocab.domains), None
        )
        org_code, org_name = _org(name, event, vocab)
        reports = (
            [r for r in event.get("EventReport", []) if isinstance(r, dict) and not _deleted(r)]
            if isinstance(event.get("EventReport"), list)
            else []
        )
        attributes = _attributes(event)
        total += len(reports) + len(attributes)
        if total > MAX_OBJECTS:
            raise InteropRefused(f"{name}: more than {MAX_OBJECTS} reports and attributes")
        when = _event_time(name, event, key)
        if reports:
            if attributes:
                result.not_imported["attribute"] += len(attributes)
            for report in reports:
                report_uuid = _uuid(name, report.get("uuid"), f"a report of {key}")
                rkey = f"event report {report_uuid} ({quote(report.get('name', ''), 40)})"
                title = clean_title(name, report.get("name"), rkey)
                content = clean_block(name, "summary", report.get("content"), rkey)
                match = REPORT_TEMPLATE.fullmatch(content)
                label: Tlp | None = event_tlp
                slug = event_domain
                origin = org_code
                reference = None
                summary = content
                if match:
                    label = _tag_tlp("tlp:" + match["tlp"]) or label
                    slug = match["domain"] if match["domain"] in vocab.domains else slug
                    origin = match["origin"] if match["origin"] in vocab.ministries else origin
                    reference = match["reference"]
                    summary = match["summary"]
                items.append(
                    _item(
                        name,
                        rkey,
                        report_uuid,
                        label,
                        slug,
                        origin,
                        title,
                        summary,
                        reference,
                        org_name,
                        vocab,
                        as_code=as_code,
                        tlp=tlp,
                        domain=domain,
                        when=_timestamp(name, report.get("timestamp", 0), rkey) if "timestamp" in report else when,
                    )
                )
        else:
            title = clean_title(name, event.get("info"), key)
            lines = []
            for attr in attributes:
                kind = clean_line(name, "attribute type", attr.get("type"), key, 64)
                value = clean_block(name, "attribute value", str(attr.get("value", "")), key)
                comment = clean_line(name, "attribute comment", attr.get("comment"), key, 500)
                lines.append(f"- {kind}: {value}" + (f" ({comment})" if comment else ""))
            summary = "\n".join(lines)
            items.append(
                _item(
                    name,
                    key,
                    event_uuid,
                    event_tlp,
                    event_domain,
                    org_code,
                    title,
                    summary,
                    None,
                    org_name,
                    vocab,
                    as_code=as_code,
                    tlp=tlp,
                    domain=domain,
                    when=when,
                )
            )
    return items, result


def _deleted(obj: dict[str, Any]) -> bool:
    return obj.get("deleted") in (True, "1", 1, "true")


def _org(name: str, event: dict[str, Any], vocab: Vocabulary) -> tuple[str | None, str]:
    org = (
        event.get("Orgc")
        if isinstance(event.get("Orgc"), dict)
        else event.get("Org")
        if isinstance(event.get("Org"), dict)
        else None
    )
    if org is None:
        return None, ""
    org_name = clean_line(name, "organisation name", org.get("name"), "Orgc", 200)
    code = vocab.ministry_by_uuid(str(org.get("uuid", "")).lower()) or (
        vocab.ministry_by_name(org_name) if org_name else None
    )
    return code, org_name


def _item(
    name: str,
    key: str,
    uuid: str,
    label: Tlp | None,
    slug: str | None,
    origin: str | None,
    title: str,
    summary: str,
    reference: str | None,
    org_name: str,
    vocab: Vocabulary,
    *,
    as_code: str | None,
    tlp: Tlp | None,
    domain: str | None,
    when: datetime,
) -> Incoming:
    if label is None:
        if tlp is None:
            raise InteropRefused(
                f"{name}: {key} has no tlp: tag; give the TLP to apply to unmarked events", field="tlp", reference=key
            )
        label = tlp
    if label is Tlp.RED:
        raise InteropRefused(f"{name}: {key} is TLP:RED, which never comes in through a file", reference=key)
    origin = origin or as_code
    if origin is None:
        who = quote(org_name, 40) if org_name else "no organisation"
        raise InteropRefused(
            f"{name}: {key} was created by {who}, which is no known ministry; name the ministry it comes from",
            field="as",
            reference=key,
        )
    slug = slug or domain
    if slug is None:
        raise InteropRefused(
            f"{name}: {key} has no tag naming a domain known here; valid: {', '.join(sorted(vocab.domains))}",
            field="domain",
            reference=key,
        )
    author = (org_name or vocab.ministries.get(origin, origin))[:64]
    return Incoming(
        key=key,
        uuid=uuid,
        origin=origin,
        tlp=label,
        domain=slug,
        title=title,
        summary=summary,
        source=f"MISP {key.split(' (')[0]} from {author}",
        author=author,
        created_at=when,
        updated_at=when,
        reference=reference,
    )


#: MISP events out (one Event Report per record) and in.
MISP = FieldFormat(FORMAT, "misp", "MISP file", build_event, parse_events)
export_misp = MISP.export
import_misp = MISP.import_file


def looks_like_misp(document: Any) -> bool:
    """True for a MISP event file (for format detection)."""
    return isinstance(document, dict) and ("Event" in document or "response" in document)


__all__ = ["FORMAT", "MISP", "export_misp", "import_misp", "report_markdown", "tlp_tag"]
