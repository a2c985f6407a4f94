"""Key lifecycle: key status and the age policy, data-key rotation with re-encryption, full revocation of an officer.

One module per part, every name the faces and tests use importable from `store.keys`:

- `columns.py` — `CIPHERTEXT_COLUMNS` (every column under the data key; the one list), `NOT_CIPHERTEXT`,
  `DERIVED_PURPOSES` (what replacing the master secret must redo for each derived key), batch size;
- `status.py` — `key_status`, `key_notice` (the app's notice), `set_key_max_age`, the policy document under its MAC;
- `job.py` — the rotation job's state (in `liaison_meta` under a MAC) and the steps it walks;
- `rekey.py` — one batch: re-encrypting a step's rows and re-signing what it rewrote;
- `ahead.py` — the records step's Fernet work in helper processes (`crypto.rekey_pool`), a batch ahead: batch
  N+1's while batch N is written; how a records batch is delimited and read;
- `rotation.py` — `rotate_data_key`: start, batches, retire, compact; resumable;
- `revocation.py` — `regrant` (the keyring granted again, each officers row checked first), `rebuild_index`, and
  `revoke_officer` (full revocation).

Rotation is a job that survives a crash. Its first transaction (the signed `keys-rotate` event) makes a new
data key current and grants it to every active officer (the keyring keeps the old keys, so every token stays
readable); then every ciphertext column listed in `CIPHERTEXT_COLUMNS` is re-encrypted in batches, each batch
one user action (`Session.act("rekey", …)`) that also moves the job's cursor (kept in the store's metadata
under a MAC); the last transaction (`keys-retire`) drops the old keys from the keyring. Freed pages are zeroed
(`secure_delete`) and the file is compacted (`VACUUM`) so no old token survives in it. Running rotation again
resumes an interrupted job.

Every batch re-signs what it rewrote into the audit log, in the same transaction: its own `rekey` event names,
for each record whose ciphertexts changed, the hashes before and after (title, review rows, each rewritten
revision row and its body: `store.audit.rekeys`), listed in `rekey_index`; and one `rekey-details` event signs
the events' encrypted details (`audit_log.detail_ct`). A record's checks move the state its last event signed
by the batches after it, a hash only from the value that event signed: a record that was already damaged stays
damaged, and `audit verify` names it. A detail that is not the one its event signed is re-encrypted (it stays
readable) but not re-signed, and the rotation reports it.

Full revocation (an officer's removal) also replaces the master secret in one transaction: every derived
key changes, so the blind index is rebuilt under the new index key and every officer, policy and contact
MAC re-derived, after checking each under the old key. Its signed `officer-remove` event marks the officer's
signing key revoked at that point of the log, so `audit verify` refuses anything it signs later; every other
officers row it re-grants gets its `officer-regrant` event.
"""

from __future__ import annotations

from store.keys.columns import (
    BATCH_ROWS,
    CIPHERTEXT_COLUMNS,
    DERIVED_PURPOSES,
    NOT_CIPHERTEXT,
    CiphertextColumn,
    Progress,
    present_columns,
)
from store.keys.job import RotationJob
from store.keys.revocation import rebuild_index, regrant, revoke_officer
from store.keys.rotation import RotationReport, rotate_data_key
from store.keys.status import (
    DEFAULT_KEY_MAX_AGE_DAYS,
    MAX_KEY_MAX_AGE_DAYS,
    DataKeyInfo,
    KeyStatus,
    SigningKeyInfo,
    key_max_age,
    key_notice,
    key_status,
    set_key_max_age,
)

__all__ = [
    "BATCH_ROWS",
    "CIPHERTEXT_COLUMNS",
    "DEFAULT_KEY_MAX_AGE_DAYS",
    "DERIVED_PURPOSES",
    "MAX_KEY_MAX_AGE_DAYS",
    "NOT_CIPHERTEXT",
    "CiphertextColumn",
    "DataKeyInfo",
    "KeyStatus",
    "Progress",
    "RotationJob",
    "RotationReport",
    "SigningKeyInfo",
    "key_max_age",
    "key_notice",
    "key_status",
    "present_columns",
    "rebuild_index",
    "regrant",
    "revoke_officer",
    "rotate_data_key",
    "set_key_max_age",
]
