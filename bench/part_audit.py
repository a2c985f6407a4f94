"""Part: the signed audit log (issue 11) on the N-record store that `ingest` built.

- `liaison audit verify` as a user runs it (a child process, wall time and peak RSS) against
  `python -m bench.worker raw-audit-verify`: sqlite3 and cryptography alone doing the same hashing and
  Ed25519 verifications in a plain loop — each event's leaf hash (`SHA-256(0x00 ‖ leaf)`), chain value and
  Ed25519 signature, the Merkle root at every checkpoint and the checkpoint's own signature, and the SHA-256
  of every revision's ciphertexts and of every encrypted detail — without parsing, comparing or reporting
  anything; that is what the ratio prices.
- Open and unlock of the N-record store (in this process, a workstation witness directory given, as the
  faces give one: the witness check at open, the log's end and checkpoint checked at unlock, the officer's
  row against the log, the unlock event signed and written) against unlock as it was before the log, on the
  same store: open, read the officer's row, open the slot and the grant, check the two MACs, write nothing.
  Interleaved, median of the runs.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import inspect
import json
import shutil
import statistics
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bench import raw
from bench.context import Bench
from bench.measure import Row, interleaved_ms, percentile, python, run_measured

#: Unlocks timed per variant (interleaved).
UNLOCK_RUNS = 15
#: How much slower than before the log an unlock may be (issue 11).
UNLOCK_BUDGET_MS = 100.0

_LEAF_CONTEXT = b"liaison/leaf/v1\n"
_EVENT_CONTEXT = b"liaison/event/v1\n"


def raw_verify_main(args: list[str]) -> None:
    """Child process: the raw loop over the store `args[0]` with the identity key in the JSON file `args[1]`."""
    store, keyfile = Path(args[0]), Path(args[1])
    identity = Ed25519PublicKey.from_public_bytes(bytes.fromhex(json.loads(keyfile.read_text())["identity_public"]))
    con = raw.connect(store)
    checkpoints = {
        size: (root, note) for size, root, note in con.execute("SELECT size, root, note FROM audit_checkpoints")
    }
    keys: dict[bytes, Ed25519PublicKey] = {}
    chain = bytes(32)
    stack: list[tuple[int, bytes]] = []  # the Merkle frontier: (height, subtree root), largest first
    size = bad = 0
    for body, signer, sig, stored_chain, detail in con.execute(
        "SELECT body, signer, sig, chain, detail_ct FROM audit_log ORDER BY seq"
    ):
        leaf = hashlib.sha256(b"\x00" + _LEAF_CONTEXT + signer + sig + body).digest()
        chain = hashlib.sha256(chain + leaf).digest()
        bad += chain != stored_chain
        key = keys.get(signer)
        if key is None:
            key = keys[signer] = Ed25519PublicKey.from_public_bytes(signer)
        key.verify(sig, _EVENT_CONTEXT + body)
        if detail is not None:
            hashlib.sha256(detail).digest()
        node, height = leaf, 0
        while stack and stack[-1][0] == height:
            node = hashlib.sha256(b"\x01" + stack.pop()[1] + node).digest()
            height += 1
        stack.append((height, node))
        size += 1
        if size in checkpoints:
            tree_root = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                tree_root = hashlib.sha256(b"\x01" + left + tree_root).digest()
            root, note = checkpoints[size]
            bad += tree_root != root
            text, _, signature_line = note.rstrip("\n").rpartition("\n\n")
            identity.verify(base64.b64decode(signature_line.rsplit(" ", 1)[1])[4:], (text + "\n").encode())
    for title_ct, body_ct in con.execute("SELECT title_ct, body_ct FROM revisions"):
        hashlib.sha256(title_ct).digest()
        hashlib.sha256(body_ct).digest()
    con.close()
    if bad or size != max(checkpoints, default=0):
        raise SystemExit(f"raw verify: {bad} mismatches over {size} events")
    print(size)


def verify(b: Bench, env: dict[str, str]) -> None:
    """`liaison audit verify` of the N-record store against the raw loop."""
    from store.service import Vault

    vault = Vault.open(b.store)
    session = vault.unlock(b.officer, b.passphrase)
    keyring = session.keyring
    assert keyring is not None
    identity_public = Ed25519PrivateKey.from_private_bytes(keyring.signing_key).public_key().public_bytes_raw()
    vault.db.checkpoint()
    vault.close()
    keyfile = b.work / "audit-keys.json"
    keyfile.write_text(json.dumps({"identity_public": identity_public.hex()}))

    gc.collect()
    liaison = run_measured([str(b.liaison_bin), "--store", str(b.store), "audit", "verify", "--json"], env=env)
    if liaison["returncode"] != 0:
        raise RuntimeError(f"liaison audit verify failed: {liaison['stderr'][-800:]}")
    report = json.loads(liaison["stdout"])
    baseline = run_measured([python(), "-m", "bench.worker", "raw-audit-verify", str(b.store), str(keyfile)])
    if baseline["returncode"] != 0:
        raise RuntimeError(f"raw audit verify failed: {baseline['stderr'][-800:]}")
    events = int(baseline["stdout"].split()[-1])
    if report.get("events") != events:
        raise RuntimeError(f"liaison verified {report.get('events')} events, the raw loop {events}")
    ratio = (events / liaison["wall_s"]) / (events / baseline["wall_s"])
    b.add(
        Row(
            "audit",
            f"`liaison audit verify` of the {b.records:,}-record store ({events:,} events)",
            events / liaison["wall_s"],
            "events/s",
            events / baseline["wall_s"],
            "≥ 0.5× raw",
            ratio >= 0.5,
            note=f"{liaison['wall_s']:.1f} s vs {baseline['wall_s']:.1f} s",
            extra={"liaison_s": liaison["wall_s"], "raw_s": baseline["wall_s"], "report": report},
        )
    )
    b.add(
        Row(
            "audit",
            "`liaison audit verify` peak RSS",
            liaison["maxrss_mb"],
            "MB",
            baseline["maxrss_mb"],
            "",
            None,
        )
    )


def unlock(b: Bench, state_dir: Path) -> None:
    """Open + unlock of the N-record store against unlock as it was before the log, on the same store."""
    from crypto.slot import OfficerSlot, open_grant, open_slot
    from store.models import Officer
    from store.service import Vault
    from store.vault import get_meta, officer_mac, passphrase_bytes, store_mac

    opens_with_state = "state_dir" in inspect.signature(Vault.open).parameters

    def with_log() -> None:
        vault = Vault.open(b.store, state_dir=state_dir) if opens_with_state else Vault.open(b.store)
        vault.unlock(b.officer, b.passphrase)
        vault.close()

    def before_log() -> None:
        # what `Vault.open` + `Vault.unlock` did before the log (no witness, nothing written): read the
        # officer's row and the metadata, open the slot and the grant, check the row's and the policy's MACs
        vault = Vault.open(b.store)
        with vault.db.read() as s:
            row = s.get(Officer, b.officer)
            assert row is not None
            slot_json, grant, role, mac, revoked = row.slot, row.grant, row.role, row.mac, row.revoked_at
            store_id, policy_doc = get_meta(s, "store_id"), get_meta(s, "policy")
            policy_mac = get_meta(s, "policy_mac")
        assert store_id is not None and policy_doc is not None and policy_mac is not None
        secret = open_slot(OfficerSlot.from_json(slot_json), passphrase_bytes(b.passphrase))
        keyring = open_grant(grant, store_id, b.officer, secret)
        hmac.compare_digest(mac, officer_mac(keyring.officers_key, b.officer, role, slot_json, grant, revoked))
        hmac.compare_digest(policy_mac, store_mac(keyring.derived("policy"), policy_doc))
        json.loads(policy_doc)
        vault.close()

    with_log()  # warm up: imports, the page cache, the witness written once
    before_log()
    now_ms, then_ms = interleaved_ms([with_log, before_log], repeat=UNLOCK_RUNS, warmup=1)
    now, then = statistics.median(now_ms), statistics.median(then_ms)
    b.add(
        Row(
            "audit",
            f"open + unlock of the {b.records:,}-record store (median of {UNLOCK_RUNS}; raw: the same unlock before the log)",
            now,
            "ms",
            then,
            f"≤ raw + {UNLOCK_BUDGET_MS:.0f} ms",
            now - then <= UNLOCK_BUDGET_MS,
            note=f"+{now - then:.1f} ms; p95 {percentile(now_ms, 95):.1f} vs {percentile(then_ms, 95):.1f}",
            extra={"with_log_ms": now_ms, "before_log_ms": then_ms},
        )
    )


def run(b: Bench) -> None:
    """Both audit figures on the store `ingest` built."""
    if not b.store.exists():
        raise RuntimeError("the audit part needs the store the ingest part builds")
    # A workstation of its own: the bundles part's sender store is a copy of this store (same uuid) whose log
    # went further, and a shared witness would rightly call this one rolled back.
    state_dir = b.work / "state-audit"
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir()
    env = {"LIAISON_PASSPHRASE": b.passphrase, "LIAISON_OFFICER": b.officer, "LIAISON_STATE_DIR": str(state_dir)}
    unlock(b, state_dir)
    verify(b, env)
