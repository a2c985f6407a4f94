"""Part 2: export of an N-record bundle and its import, against raw loops doing the same crypto and SQL.

Liaison runs as a user runs it (`liaison export`, `liaison import`, each a child process whose peak RSS
is read). The raw loops (`python -m bench.worker raw-export|raw-import`) use sqlite3 and cryptography
alone and do the same work: export reads each record's current revision, Fernet-decrypts title and body,
encodes the canonical record object and its SHA-256, packs 250 records a chunk, Fernet-encrypts each
chunk under a fresh bundle key, hashes it, Ed25519-signs the hashes, and writes the sharing ledger and the
status change in one transaction; import hashes and decrypts every chunk, re-encrypts each record under
the local key, computes its blind-index tokens and inserts records, parties, revisions, tokens and ledger
in one transaction. Neither loop validates, plans or reports; that is what the ratio prices.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import raw
from bench.context import MINISTRY, Bench
from bench.measure import Row, python, run_measured
from store.service import Vault

RECIPIENT = "TR-MOI"
CHUNK = 250
RSS_GOAL_MB = 250


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _iso(text: str) -> str:
    return text.replace(" ", "T")[:19] + "Z"


def raw_export_main(args: list[str]) -> None:
    """Child process: the raw export loop over the sender store `args[0]` into the file `args[1]`."""
    store, out, keyfile = Path(args[0]), Path(args[1]), Path(args[2])
    keys = json.loads(keyfile.read_text())
    store_fernet = Fernet(keys["data_key"].encode())
    signer = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys["signing_key"]))
    bundle_id = os.urandom(16).hex()
    chunk_fernet = Fernet(keys["chunk_key"].encode())  # a fresh bundle key, chosen by the parent for the import
    con = raw.connect(store)
    con.execute("BEGIN IMMEDIATE")
    recipients: dict[int, list[str]] = {}
    for rid, code in con.execute("SELECT record_id, ministry FROM record_parties WHERE is_origin = 0"):
        recipients.setdefault(rid, []).append(code)
    con.execute(
        "INSERT INTO bundles (bundle_id, direction, peer, seq, header_sha256, at, officer, records) VALUES (?, 'out', ?, 1, ?, ?, 'bench', 0)",
        (bundle_id, RECIPIENT, "0" * 64, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")),
    )
    # the ids in order first, then the rows a thousand at a time: sorting the joined rows themselves would
    # hold every encrypted body in SQLite's sorter at once
    ids_in_order = [
        rid
        for (rid,) in con.execute(
            "SELECT r.id FROM records r WHERE r.status IN ('approved', 'shared', 'acknowledged') AND r.tlp != 'RED'"
            " AND EXISTS (SELECT 1 FROM record_parties p WHERE p.record_id = r.id AND p.ministry = ? AND p.is_origin = 0)"
            " ORDER BY r.created_at, r.id",
            (RECIPIENT,),
        )
    ]

    def rows() -> Any:
        for start in range(0, len(ids_in_order), 1000):
            batch = ids_in_order[start : start + 1000]
            found = {
                row[0]: row
                for row in con.execute(
                    "SELECT r.id, r.uuid, r.reference, r.domain, r.origin, r.tlp, r.no_reexport, r.revision, r.author, r.created_at,"
                    " r.updated_at, v.title_ct, v.body_ct FROM records r JOIN revisions v ON v.record_id = r.id AND v.number = r.revision"
                    f" WHERE r.id IN ({','.join('?' * len(batch))})",
                    batch,
                )
            }
            yield from (found[rid] for rid in batch)

    hashes = hashlib.sha256()
    pending: list[bytes] = []
    ledger: list[tuple[Any, ...]] = []
    ids: list[int] = []
    index = 0
    with out.open("wb") as fh:
        fh.write(b"liaison-raw/v1\n")

        def flush(final: bool) -> None:
            nonlocal index
            envelope = (
                b'{"bundle":"'
                + bundle_id.encode()
                + b'","final":'
                + (b"true" if final else b"false")
                + b',"index":'
                + str(index).encode()
                + b',"records":['
                + b",".join(pending)
                + b"]}"
            )
            token = chunk_fernet.encrypt(envelope)
            fh.write(struct.pack(">I", len(token)) + token)
            hashes.update(hashlib.sha256(token).digest())
            index += 1
            con.executemany(
                "INSERT INTO bundle_items (bundle_id, record_uuid, record_id, reference, revision, content_sha256) VALUES (?,?,?,?,?,?)",
                ledger,
            )
            con.executemany(
                "UPDATE records SET status = 'shared' WHERE id = ? AND status = 'approved'", [(i,) for i in ids]
            )
            pending.clear()
            ledger.clear()
            ids.clear()

        for (
            rid,
            uuid,
            reference,
            domain,
            origin,
            tlp,
            no_reexport,
            revision,
            author,
            created,
            updated,
            title_ct,
            body_ct,
        ) in rows():
            body = json.loads(store_fernet.decrypt(base64.urlsafe_b64encode(body_ct)))
            obj = {
                "uuid": uuid,
                "reference": reference,
                "domain": domain,
                "origin": origin,
                "releasable_to": sorted(recipients.get(rid, [])),
                "tlp": tlp,
                "no_reexport": bool(no_reexport) or tlp == "AMBER+STRICT",
                "revision": revision,
                "author": author,
                "created_at": _iso(created),
                "updated_at": _iso(updated),
                "title": store_fernet.decrypt(base64.urlsafe_b64encode(title_ct)).decode(),
                "summary": body["summary"],
                "source": body["source"],
            }
            encoded = _canonical(obj)
            pending.append(encoded)
            ledger.append((bundle_id, uuid, rid, reference, revision, hashlib.sha256(encoded).hexdigest()))
            ids.append(rid)
            if len(pending) >= CHUNK:
                flush(False)
        if pending:
            flush(True)
        fh.write(signer.sign(hashes.digest()))
    con.execute("COMMIT")
    con.close()


def raw_import_main(args: list[str]) -> None:
    """Child process: the raw import loop of the raw bundle `args[0]` into the empty store `args[1]`."""
    bundle, store, keyfile = Path(args[0]), Path(args[1]), Path(args[2])
    keys = json.loads(keyfile.read_text())
    chunk_fernet = Fernet(keys["chunk_key"].encode())
    local = Fernet(keys["receiver_data_key"].encode())
    tokens = raw.Tokens(bytes.fromhex(keys["receiver_index_key"]))
    signer_public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys["signing_key"])).public_key()

    def seal(data: bytes) -> bytes:
        return base64.urlsafe_b64decode(local.encrypt(data))

    con = raw.connect(store)
    con.execute("BEGIN IMMEDIATE")
    bundle_id = os.urandom(16).hex()
    con.execute(
        "INSERT INTO bundles (bundle_id, direction, peer, seq, header_sha256, at, officer, records) VALUES (?, 'in', ?, 1, ?, ?, 'bench', 0)",
        (bundle_id, MINISTRY, "0" * 64, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")),
    )
    next_id = con.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0] + 1
    hashes = hashlib.sha256()
    fh = bundle.open("rb")  # read frame by frame, as Liaison streams its bundles
    fh.readline()
    end = bundle.stat().st_size - 64
    while fh.tell() < end:
        (length,) = struct.unpack(">I", fh.read(4))
        token = fh.read(length)
        hashes.update(hashlib.sha256(token).digest())
        envelope = json.loads(chunk_fernet.decrypt(token))
        records, parties, revisions, index, ledger = [], [], [], [], []
        for rec in envelope["records"]:
            rid, next_id = next_id, next_id + 1
            title_ct = seal(rec["title"].encode())
            created, updated = (
                rec["created_at"].replace("T", " ").rstrip("Z") + ".000000",
                rec["updated_at"].replace("T", " ").rstrip("Z") + ".000000",
            )
            records.append(
                (
                    rid,
                    rec["reference"],
                    rec["uuid"],
                    rec["domain"],
                    rec["origin"],
                    rec["tlp"],
                    "received",
                    rec["author"],
                    created,
                    updated,
                    rec["revision"],
                    int(rec["no_reexport"]),
                    title_ct,
                )
            )
            parties.append((rid, rec["origin"], 1))
            parties.extend((rid, c, 0) for c in rec["releasable_to"] if c != rec["origin"])
            body = _canonical({"notes": "", "source": rec["source"], "summary": rec["summary"]})
            revisions.append(
                (
                    rid,
                    rec["revision"],
                    updated,
                    rec["author"],
                    rec["tlp"],
                    ",".join(rec["releasable_to"]),
                    title_ct,
                    seal(body),
                )
            )
            index.append((rid, tokens.text(rec["title"], rec["summary"])))
            ledger.append(
                (
                    bundle_id,
                    rec["uuid"],
                    rid,
                    rec["reference"],
                    rec["revision"],
                    hashlib.sha256(_canonical(rec)).hexdigest(),
                )
            )
        con.executemany(
            "INSERT INTO records (id, reference, uuid, domain, origin, tlp, status, author, created_at, updated_at, revision, no_reexport, title_ct)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            records,
        )
        con.executemany("INSERT INTO record_parties (record_id, ministry, is_origin) VALUES (?,?,?)", parties)
        con.executemany(
            "INSERT INTO revisions (record_id, number, created_at, officer, tlp, releasable_to, title_ct, body_ct) VALUES (?,?,?,?,?,?,?,?)",
            revisions,
        )
        con.executemany("INSERT INTO search_index (rowid, tokens) VALUES (?,?)", index)
        con.executemany(
            "INSERT INTO bundle_items (bundle_id, record_uuid, record_id, reference, revision, content_sha256) VALUES (?,?,?,?,?,?)",
            ledger,
        )
    signer_public.verify(fh.read(64), hashes.digest())
    fh.close()
    con.execute("COMMIT")
    con.close()


def _sender_items(b: Bench) -> list[Any]:
    """The corpus, every record approved, of PK-MOI, releasable to TR-MOI and not RED: all N qualify for export."""
    return [
        dataclasses.replace(
            item,
            origin=MINISTRY,
            status="approved",
            tlp="AMBER" if item.tlp == "RED" else item.tlp,
            releasable_to=tuple(sorted({RECIPIENT, *item.releasable_to} - {MINISTRY})),
            reviews=(),
            no_reexport=False,
        )
        for item in b.corpus()
    ]


def run(b: Bench) -> None:
    try:
        from store import bundles  # noqa: F401
        from store.contacts import add_contact, export_identity
    except ImportError as exc:
        b.skipped["bundles"] = f"store/bundles.py is not importable ({exc})"
        return
    n = b.records
    work = b.work / "bundles"
    work.mkdir(exist_ok=True)
    sender_path, receiver_path = work / "pk-moi.db", work / "tr-moi.db"
    shutil.copy(b.template, sender_path)
    Vault.create(receiver_path, RECIPIENT, b.officer, b.passphrase, kdf_profile="minimum").close()
    empty_receiver = work / "tr-moi-empty.db"
    shutil.copy(receiver_path, empty_receiver)

    sender_vault = Vault.open(sender_path)
    sender = sender_vault.unlock(b.officer, b.passphrase)
    start = time.perf_counter()
    sender.ingest(_sender_items(b))
    b.phase_seconds["bundles: sender store"] = time.perf_counter() - start
    receiver_vault = Vault.open(receiver_path)
    receiver = receiver_vault.unlock(b.officer, b.passphrase)
    export_identity(sender, work / "pk-moi.card")
    export_identity(receiver, work / "tr-moi.card")
    add_contact(sender, work / "tr-moi.card")
    add_contact(receiver, work / "pk-moi.card")
    sk, rk = sender.keyring, receiver.keyring
    assert sk is not None and rk is not None
    keyfile = work / "keys.json"
    chunk_key = Fernet.generate_key()
    keyfile.write_text(
        json.dumps(
            {
                "data_key": sk.data_keys[sk.current_version].decode(),
                "signing_key": sk.signing_key.hex(),
                "chunk_key": chunk_key.decode(),
                "receiver_data_key": rk.data_keys[rk.current_version].decode(),
                "receiver_index_key": rk.index_key.hex(),
            }
        )
    )
    sender_vault.db.checkpoint()
    sender_vault.close()
    receiver_vault.close()
    raw_sender = work / "pk-moi-raw.db"
    shutil.copy(sender_path, raw_sender)

    env = {"LIAISON_PASSPHRASE": b.passphrase, "LIAISON_OFFICER": b.officer}
    bundle_path = work / "to-tr-moi.bundle"
    export = run_measured(
        [str(b.liaison_bin), "--store", str(sender_path), "export", "--to", RECIPIENT, "--out", str(bundle_path)],
        env=env,
    )
    if export["returncode"] != 0:
        raise RuntimeError(f"liaison export failed: {export['stderr'][-800:]}")
    raw_bundle = work / "raw.bundle"
    raw_export = run_measured(
        [python(), "-m", "bench.worker", "raw-export", str(raw_sender), str(raw_bundle), str(keyfile)]
    )
    if raw_export["returncode"] != 0:
        raise RuntimeError(f"raw export failed: {raw_export['stderr'][-800:]}")

    imported = run_measured([str(b.liaison_bin), "--store", str(receiver_path), "import", str(bundle_path)], env=env)
    if imported["returncode"] != 0:
        raise RuntimeError(f"liaison import failed: {imported['stderr'][-800:]}")
    raw_import = run_measured(
        [python(), "-m", "bench.worker", "raw-import", str(raw_bundle), str(empty_receiver), str(keyfile)]
    )
    if raw_import["returncode"] != 0:
        raise RuntimeError(f"raw import failed: {raw_import['stderr'][-800:]}")

    counts = {
        p: sqlite3.connect(p).execute("SELECT count(*) FROM records").fetchone()[0]
        for p in (receiver_path, empty_receiver)
    }
    assert counts[receiver_path] == counts[empty_receiver] == n, counts
    size_mb = bundle_path.stat().st_size / 2**20
    for label, lia, base in (("export", export, raw_export), ("import", imported, raw_import)):
        ratio = (n / lia["wall_s"]) / (n / base["wall_s"])
        b.add(
            Row(
                "bundles",
                f"`liaison {label}` of a {n:,}-record bundle ({size_mb:,.0f} MB)",
                n / lia["wall_s"],
                "rec/s",
                n / base["wall_s"],
                "≥ 0.5× raw",
                ratio >= 0.5,
                note=f"{lia['wall_s']:.1f} s vs {base['wall_s']:.1f} s",
                extra={"liaison_s": lia["wall_s"], "raw_s": base["wall_s"]},
            )
        )
        b.add(
            Row(
                "bundles",
                f"`liaison {label}` peak RSS",
                lia["maxrss_mb"],
                "MB",
                base["maxrss_mb"],
                f"≤ {RSS_GOAL_MB} MB",
                lia["maxrss_mb"] <= RSS_GOAL_MB,
                extra={"bundle_mb": size_mb},
            )
        )
    shutil.rmtree(work, ignore_errors=True)
