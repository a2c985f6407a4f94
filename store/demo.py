"""A fictional demo store: several officers, a real review queue, every domain, TLP and status, 18 months of dates.

The builder: the stores, colleagues, the TR-MOI counterpart, cards, bundles and ledger. The fictional
content (names, places, prose, the records made from them) is `store.demo_data`; every name in it is invented.
"""

from __future__ import annotations

import random
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from store.demo_data import (
    COUNTERPART_AUTHORS,
    DEMO_COLLEAGUES,
    DEMO_MINISTRY,
    DEMO_OFFICER,
    SOURCES,
    SUBJECTS,
    TextMaker,
    bare,
    demo_items,
)
from store.errors import StoreFileError
from store.ingest import IngestItem, Progress
from store.models import BundleItem, BundleLog, Meta, Record, RecordParty
from store.service import Clock, Session, Vault, utcnow
from store.vocab import SEED_DOMAINS, Status

#: The demo's names, its fictional content's (`store.demo_data`) included, so existing imports keep working.
__all__ = [
    "COUNTERPART_AUTHORS",
    "COUNTERPART_COLLEAGUES",
    "COUNTERPART_MINISTRY",
    "COUNTERPART_RECORDS",
    "COUNTERPART_STORE",
    "DEMO_COLLEAGUES",
    "DEMO_FILES",
    "DEMO_MINISTRY",
    "DEMO_OFFICER",
    "DEMO_PASSPHRASE",
    "LEDGER_BUNDLE_SIZE",
    "PENDING_BUNDLE",
    "SOURCES",
    "SUBJECTS",
    "DemoResult",
    "TextMaker",
    "bare",
    "build_demo",
    "counterpart_items",
    "counterpart_path",
    "default_demo_path",
    "demo_items",
    "demo_logins",
    "demo_notes",
    "open_or_build",
]

DEMO_PASSPHRASE = "demo"


@dataclass
class DemoResult:
    """What `build_demo` made."""

    path: Path
    records: int
    notes: list[str] = field(default_factory=list)


def default_demo_path() -> Path:
    """Where `liaison demo` puts its store when not told: beside, never over, the real store."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("liaison", appauthor=False)) / "demo" / "pk-moi.db"


def _remove_demo(path: Path) -> None:
    """Delete an earlier demo store at `path`; refuse if the file is anything else."""
    import sqlite3

    from store.sqlite import read_only_probe

    try:
        probe = read_only_probe(path)
        try:
            row = probe.execute("SELECT value FROM liaison_meta WHERE key='demo'").fetchone()
        finally:
            probe.close()
    except sqlite3.DatabaseError:
        row = None
    if not row or row[0] != "1":
        raise StoreFileError(f"{path} exists and is not a demo store; refusing to replace it")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def build_demo(
    path: Path,
    *,
    records: int = 300,
    progress: Progress | None = None,
    clock: Clock = utcnow,
    seed: int = 2026,
    summary_bytes: int = 900,
    counterpart: bool = True,
) -> DemoResult:
    """(Re)build the demo store at `path`: officer `demo` (admin, passphrase `demo`) and fictional colleagues.

    With `counterpart`, also the TR-MOI side beside it: its own store, identity cards exchanged both
    ways, the sharing ledger of PK-MOI's shared records, and a pending bundle from TR-MOI to import.
    """
    path = Path(path)
    earlier = False
    for store in (path, counterpart_path(path)) if counterpart else (path,):
        if store.exists() or store.is_symlink():
            _remove_demo(store)  # refuses anything that is not a demo store
            earlier = True
    if earlier:
        _remove_demo_files(path.parent)  # the earlier demo's cards, bundles and receipts: they belong to it
    vault = Vault.create(
        path, DEMO_MINISTRY, DEMO_OFFICER, DEMO_PASSPHRASE, clock=clock, extra_meta={"demo": "1"}, kdf_profile="minimum"
    )
    try:
        session = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        for name, role in DEMO_COLLEAGUES:
            session.add_officer(name, role, DEMO_PASSPHRASE, kdf_profile="minimum")
        session.ingest(
            demo_items(records, clock(), seed=seed, summary_bytes=summary_bytes),
            total=records,
            progress=progress,
            action="demo",
        )
        if counterpart:
            _build_counterpart(session, path, clock, seed)
        vault.db.checkpoint()
    finally:
        vault.close()
    return DemoResult(path, records, demo_notes(path, counterpart=counterpart))


def open_or_build(
    path: Path, *, records: int = 300, progress: Progress | None = None, clock: Clock = utcnow
) -> tuple[DemoResult, bool]:
    """The demo store at `path` as the user left it, or a new one when there is none; (result, built).

    Anything at `path` that is not a demo store is refused, untouched.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return build_demo(path, records=records, progress=progress, clock=clock), True
    count = _demo_record_count(path)
    return DemoResult(path, count, demo_notes(path, counterpart=counterpart_path(path).exists())), False


def _demo_record_count(path: Path) -> int:
    """How many records the demo store at `path` holds; refuses anything that is not a demo store."""
    import sqlite3

    from store.db import preflight
    from store.sqlite import read_only_probe

    if path.is_symlink() or not path.is_file():
        raise StoreFileError(f"{path} exists and is not a demo store; refusing to use it")
    preflight(path)
    probe = read_only_probe(path)
    try:
        flag = probe.execute("SELECT value FROM liaison_meta WHERE key='demo'").fetchone()
        count = probe.execute("SELECT count(*) FROM records").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreFileError(f"store {path} is corrupt or unreadable ({exc})") from None
    finally:
        probe.close()
    if not flag or flag[0] != "1":
        raise StoreFileError(f"{path} exists and is not a demo store; refusing to use it")
    return int(count)


def demo_logins(vault: Vault) -> list[tuple[str, str, str]]:
    """For a demo store only (empty otherwise): every active officer as (name, role, passphrase), for the unlock
    screen. Demo passphrases are public; a real store's are never known to Liaison."""
    if not vault.is_demo():
        return []
    return [(o.name, o.role.value, DEMO_PASSPHRASE) for o in vault.officers() if not o.revoked]


#: Files the demo writes beside its stores (removed, when they are plain files, before a rebuild).
DEMO_FILES = ("pk-moi.card", "tr-moi.card", "from-tr-moi.bundle", "to-tr-moi.receipt", "to-tr-moi.bundle")
#: What the app writes beside a store when not told otherwise (an export's bundle or STIX/MISP file, a meeting
#: pack, a receipt): in an earlier demo's directory they came from that demo, and go with it on a rebuild.
DEMO_OUTPUTS = (
    "to-*-*.bundle",
    "pk-moi-*.stix.json",
    "pk-moi-*.misp.json",
    "tr-moi-*.stix.json",
    "tr-moi-*.misp.json",
    "pack-*.md",
    "pack-*.pdf",
    "pack-*-to-*.bundle",
    "receipt-*-*.receipt",
)


def _remove_demo_files(directory: Path) -> None:
    from store.files import SQLITE_MAGIC

    found = [directory / name for name in DEMO_FILES]
    found += sorted({f for pattern in DEMO_OUTPUTS for f in directory.glob(pattern)})
    for f in found:
        if f.is_file() and not f.is_symlink():
            with f.open("rb") as fh:
                if fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                    continue
            f.unlink()


def demo_notes(path: Path, *, counterpart: bool = True, command: str = "liaison") -> list[str]:
    """What a demo user needs: the officers and passphrase, the counterpart, and a round trip to paste.

    `command` is how the user runs Liaison (`.venv/bin/liaison` outside an activated venv).
    """
    path = Path(path)
    colleagues = ", ".join(f"{n} ({r})" for n, r in DEMO_COLLEAGUES)
    notes = [f"PK-MOI officers: {DEMO_OFFICER} (admin), {colleagues}; every demo passphrase is {DEMO_PASSPHRASE}"]
    if not counterpart:
        return notes
    directory = path.parent
    tr_path = counterpart_path(path)
    tr_officers = ", ".join(f"{n} ({r})" for n, r in COUNTERPART_COLLEAGUES)
    pending, receipt, onward = (
        directory / PENDING_BUNDLE,
        directory / "to-tr-moi.receipt",
        directory / "to-tr-moi.bundle",
    )
    pk = f"{command} --store {path} --officer {DEMO_OFFICER}"
    tr = f"{command} --store {tr_path} --officer {DEMO_OFFICER}"
    return [
        *notes,
        f"TR-MOI counterpart store: {tr_path}; officers {DEMO_OFFICER} (admin), {tr_officers}; identity cards already exchanged",
        f"pending inbound bundle from TR-MOI: {pending}",
        f"a round trip (each command asks for the passphrase {DEMO_PASSPHRASE}; or first: export LIAISON_PASSPHRASE={DEMO_PASSPHRASE}):",
        f"  {pk} import {pending} --receipt-out {receipt}",
        f"  {tr} import {receipt}      # TR-MOI sees its records acknowledged",
        f"  {pk} export --to TR-MOI --out {onward}",
        f"  {tr} import {onward}",
    ]


#: The TR-MOI side of the demo: its file names beside the PK-MOI store, and its officers.
COUNTERPART_MINISTRY = "TR-MOI"
COUNTERPART_STORE = "tr-moi.db"
COUNTERPART_RECORDS = 40
PENDING_BUNDLE = "from-tr-moi.bundle"
COUNTERPART_COLLEAGUES = (("elif", "reviewer"), ("murat", "officer"))
#: Records per bundle in the demo's ledger, sent and received (a bundle every month or two).
LEDGER_BUNDLE_SIZE = 10
#: Days from a demo bundle to its receipt, in turn.
RECEIPT_DAYS = (1, 3, 2, 6, 4, 9, 2, 5)


def counterpart_path(path: Path) -> Path:
    """Where the TR-MOI demo store goes: beside the PK-MOI one."""
    path = Path(path)
    return path.with_name(COUNTERPART_STORE if path.name != COUNTERPART_STORE else "tr-moi-counterpart.db")


def counterpart_items(count: int, now: datetime, *, seed: int) -> Iterator[IngestItem]:
    """TR-MOI's own approved records, most of them releasable to PK-MOI (a RED one stays home)."""
    rng = random.Random(seed + 1)
    text = TextMaker(rng, 700)
    domains = list(SEED_DOMAINS)
    tlps = ["GREEN", "AMBER", "AMBER", "CLEAR", "AMBER+STRICT", "RED", "GREEN", "AMBER"]
    offsets = sorted((rng.uniform(0, 60 * 86400) for _ in range(count)), reverse=True)
    for i, offset in enumerate(offsets):
        created = now - timedelta(seconds=offset)
        domain = domains[i % len(domains)]
        tlp = tlps[i % len(tlps)]
        author = rng.choice(COUNTERPART_AUTHORS)
        reviewer = "demo" if author != "demo" else "elif"
        recipients: tuple[str, ...] = ("PK-MOI",) if i % 5 else ("PK-ANF", "PK-MOI")
        if i % 9 == 8:
            recipients = ("PK-ANF",)
        submitted = min(created + timedelta(minutes=20), created + (now - created) / 3)
        updated = min(submitted + timedelta(hours=rng.uniform(1, 48)), now)
        yield IngestItem(
            domain=domain,
            origin=COUNTERPART_MINISTRY,
            tlp=tlp,
            status=(Status.APPROVED if i % 7 else Status.IN_REVIEW).value,
            author=author,
            created_at=created,
            updated_at=max(updated, created),
            title=text.title(domain),
            summary=text.summary(domain),
            source=rng.choice(SOURCES),
            releasable_to=recipients,
            reviews=((author, "submit", submitted, ""), (reviewer, "approve", updated, ""))
            if i % 7
            else ((author, "submit", submitted, ""),),
        )


def _build_counterpart(pk: Session, pk_path: Path, clock: Clock, seed: int) -> None:
    """Make the TR-MOI store, exchange cards, record the PK-MOI ledger and leave a pending bundle from TR-MOI."""
    from store.bundles import export_bundle
    from store.contacts import add_contact, identity_card
    from store.files import atomic_write_bytes
    from store.jwg.demo import fill_desk

    directory = pk_path.parent
    tr_path = counterpart_path(pk_path)
    if tr_path.exists():
        _remove_demo(tr_path)
    vault = Vault.create(
        tr_path,
        COUNTERPART_MINISTRY,
        DEMO_OFFICER,
        DEMO_PASSPHRASE,
        clock=clock,
        extra_meta={"demo": "1"},
        kdf_profile="minimum",
    )
    try:
        tr = vault.unlock(DEMO_OFFICER, DEMO_PASSPHRASE)
        for name, role in COUNTERPART_COLLEAGUES:
            tr.add_officer(name, role, DEMO_PASSPHRASE, kdf_profile="minimum")
        with tr.act("demo", "reference counters") as s:
            # the PK-MOI demo already holds TR-MOI records: continue their numbering so references never clash
            with pk.db.read() as pk_s:
                counters = pk_s.execute(
                    select(Meta.key, Meta.value).where(Meta.key.like(f"seq:{COUNTERPART_MINISTRY}:%"))
                ).all()
            for key, value in counters:
                s.merge(Meta(key=key, value=value))
        tr.ingest(counterpart_items(COUNTERPART_RECORDS, clock(), seed=seed), total=COUNTERPART_RECORDS, action="demo")
        cards = {"pk": directory / "pk-moi.card", "tr": directory / "tr-moi.card"}
        atomic_write_bytes(cards["pk"], identity_card(pk))
        atomic_write_bytes(cards["tr"], identity_card(tr))
        add_contact(pk, cards["tr"])
        add_contact(tr, cards["pk"])
        _demo_ledger(pk, clock)
        _demo_inbound_ledger(pk, tr, clock)
        fill_desk(pk, tr)  # the working-group desk: meetings, agenda, actions on both sides
        pending = directory / PENDING_BUNDLE
        export_bundle(tr, "PK-MOI", pending)
        vault.db.checkpoint()
    finally:
        vault.close()


def _demo_ledger(pk: Session, clock: Clock) -> None:
    """Ledger entries for the demo's shared and acknowledged records: as if sent to TR-MOI in bundles of 10.

    A receipt acknowledges a bundle's records at once, so acknowledged records travel in bundles whose receipt
    came back and shared ones in bundles still waiting for theirs, as `export` and `import RECEIPT` leave them."""
    from store.bundles import record_objects
    from store.bundles.ledger import ledger_item

    with pk.act("demo", "sharing ledger") as s:
        rows = s.execute(
            select(Record.id, Record.status, Record.updated_at)
            .join(
                RecordParty,
                (RecordParty.record_id == Record.id)
                & (RecordParty.ministry == COUNTERPART_MINISTRY)
                & RecordParty.is_origin.is_(False),
            )
            .where(Record.origin == DEMO_MINISTRY, Record.status.in_([Status.SHARED.value, Status.ACKNOWLEDGED.value]))
            .order_by(Record.updated_at, Record.id)
        ).all()
        conn = s.connection()
        groups = []
        for acked_status in (True, False):
            same = [r for r in rows if (r.status == Status.ACKNOWLEDGED.value) is acked_status]
            groups += [same[i : i + LEDGER_BUNDLE_SIZE] for i in range(0, len(same), LEDGER_BUNDLE_SIZE)]
        groups.sort(key=lambda g: (g[-1].updated_at, g[-1].id))  # bundles in the order they went
        for seq, group in enumerate(groups, start=1):
            sent_at = min(group[-1].updated_at + timedelta(hours=2), clock())
            acked = group[0].status == Status.ACKNOWLEDGED.value
            bundle_id = uuidlib.UUID(int=random.Random(seq).getrandbits(128), version=4).hex
            # the receipt one to nine days later (never in the future), so the median days to acknowledge vary
            acked_at = min(sent_at + timedelta(days=RECEIPT_DAYS[seq % len(RECEIPT_DAYS)]), clock())
            s.add(
                BundleLog(
                    bundle_id=bundle_id,
                    direction="out",
                    peer=COUNTERPART_MINISTRY,
                    seq=seq,
                    header_sha256="0" * 64,
                    at=sent_at,
                    officer=DEMO_OFFICER,
                    records=len(group),
                    receipt_at=acked_at if acked else None,
                )
            )
            s.flush()
            status = {r.id: r.status for r in group}
            items = [
                ledger_item(
                    bundle_id, rid, obj, acknowledged_at=acked_at if status[rid] == Status.ACKNOWLEDGED.value else None
                )
                for rid, obj in record_objects(pk, s, [r.id for r in group])
            ]
            conn.execute(insert(BundleItem), items)


def _demo_inbound_ledger(pk: Session, tr: Session, clock: Clock) -> None:
    """The bundles that brought PK-MOI its records from TR-MOI, in both ledgers: PK-MOI's imports (`in`) and
    TR-MOI's exports (`out`, the record not held there), in bundles of 10 an hour after the last arrived, a
    receipt a day later. Without them the dashboard and the pack would show nothing received from TR-MOI.
    As with `import --receipt-out`: PK-MOI's bundle notes the receipt it wrote, its records are acknowledged only
    in TR-MOI's ledger (a record is acknowledged by its recipient, never by its sender)."""
    from store.bundles import record_objects
    from store.bundles.ledger import ledger_item

    with pk.act("demo", "sharing ledger (received)") as s:
        rows = s.execute(
            select(Record.id, Record.updated_at)
            .where(Record.origin == COUNTERPART_MINISTRY)
            .order_by(Record.updated_at, Record.id)
        ).all()
        bundles: list[tuple[dict[str, object], list[dict[str, object]]]] = []
        for seq, start in enumerate(range(0, len(rows), LEDGER_BUNDLE_SIZE), start=1):
            group = rows[start : start + LEDGER_BUNDLE_SIZE]
            at = min(group[-1].updated_at + timedelta(hours=1), clock())
            acked_at = min(at + timedelta(days=1), clock())
            bundle_id = uuidlib.UUID(int=random.Random(f"in-{seq}").getrandbits(128), version=4).hex
            log = {"bundle_id": bundle_id, "peer": COUNTERPART_MINISTRY, "seq": seq, "header_sha256": "0" * 64}
            log |= {"at": at, "officer": DEMO_OFFICER, "records": len(group), "receipt_at": acked_at}
            items = [ledger_item(bundle_id, rid, obj) for rid, obj in record_objects(pk, s, [r.id for r in group])]
            s.add(BundleLog(direction="in", **{**log, "peer": COUNTERPART_MINISTRY}))
            s.flush()
            s.connection().execute(insert(BundleItem), items)
            bundles.append((log, items))
    with tr.act("demo", "sharing ledger (sent)") as s:
        for log, items in bundles:
            s.add(BundleLog(direction="out", **{**log, "peer": DEMO_MINISTRY, "officer": COUNTERPART_AUTHORS[0]}))
            s.flush()
            acked = {"record_id": None, "acknowledged_at": log["receipt_at"]}  # TR-MOI got PK-MOI's receipt
            s.connection().execute(insert(BundleItem), [{**item, **acked} for item in items])
