"""Every size limit, label set and field pattern of the bundle, receipt and card formats (v1 and v2), defined once.

The readers refuse anything outside these before any expensive work; the writers never produce what a
reader would refuse. `store/` keeps its own vocabularies (`store.vocab.Tlp`, the officer and ministry
patterns) and a test (`tests/crypto/test_limits_agree.py`) checks that the two agree.
"""

from __future__ import annotations

import re

# ---- framing ----------------------------------------------------------------------------------------

VERSION_LINE = b"liaison-bundle/v1\n"
RECEIPT_LINE = b"liaison-receipt/v1\n"
#: Version 2 (docs/bundle-format.md §12): optional key transitions and the sender's checkpoint in the header.
VERSION_LINE_V2 = b"liaison-bundle/v2\n"
RECEIPT_LINE_V2 = b"liaison-receipt/v2\n"
#: The version writers produce; readers accept 1 and 2.
FORMAT_VERSION = 2
VERSION_LINES = {1: VERSION_LINE, 2: VERSION_LINE_V2}
RECEIPT_LINES = {1: RECEIPT_LINE, 2: RECEIPT_LINE_V2}
BUNDLE_PREFIX = b"liaison-bundle/"
RECEIPT_PREFIX = b"liaison-receipt/"
#: Longest version line a reader looks at before giving up.
MAX_VERSION_LINE = 32
FRAME_CHUNK = 0x43  # "C"
FRAME_SIGNATURE = 0x53  # "S"

# ---- bundle sizes -----------------------------------------------------------------------------------

MAX_HEADER_BYTES = 64 * 1024
MAX_RECIPIENTS = 16
MAX_STANZAS = 16
MAX_RECORDS = 1_000_000
MAX_CHUNK_RECORDS = 10_000
DEFAULT_CHUNK_RECORDS = 250
#: Plaintext of one chunk (canonical JSON) may not exceed this; writers close a chunk well before it.
MAX_CHUNK_PLAINTEXT = 4 * 1024 * 1024
TARGET_CHUNK_PLAINTEXT = 512 * 1024
MAX_SEQ = 2**53 - 1
FILE_KEY_BYTES = 32
SIGNATURE_BYTES = 64

#: Passphrase stanzas: Argon2id bounded above so a hostile bundle cannot exhaust the machine.
MAX_STANZA_MEMORY_KIB = 256 * 1024
MAX_STANZA_ITERATIONS = 16
MAX_STANZA_LANES = 4

# ---- record objects ---------------------------------------------------------------------------------

#: FIRST TLP 2.0 labels, most open first (the store's `Tlp` enum holds exactly these values).
TLP_LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
MAX_TITLE = 300
MAX_TEXT = 200_000
MAX_AUTHOR = 64
MAX_REFERENCE = 40
MAX_CODE = 16
MAX_DOMAIN = 40
MAX_RELEASABLE_TO = 64
MAX_REVISION = 1_000_000

# ---- receipts and cards -----------------------------------------------------------------------------

MAX_RECEIPT_ENVELOPE = 16 * 1024
MAX_RECEIPT_BODY = 64 * 1024 * 1024
MAX_RECEIPT_ITEMS = MAX_RECORDS
MAX_CARD_BYTES = 4096
MAX_MINISTRY_NAME = 200

# ---- v2: key transitions and checkpoints ------------------------------------------------------------

#: Key-transition statements one bundle or receipt may carry (a chain of rotations not yet delivered).
MAX_TRANSITIONS = 8
#: A checkpoint's signed note, in bytes of UTF-8 (ours are ~250).
MAX_CHECKPOINT_NOTE = 8192
#: Consistency proofs one bundle or receipt may carry, and hashes in one proof (a tree of 2^63 needs < 126).
MAX_PROOFS = 32
MAX_PROOF_HASHES = 126
MAX_TREE_SIZE = 2**63 - 1

# ---- field patterns (always used with fullmatch) ----------------------------------------------------

CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}")
BUNDLE_ID = re.compile(r"[0-9a-f]{32}")
HEX64 = re.compile(r"[0-9a-f]{64}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)  # ASCII digits only
DOMAIN = re.compile(r"[a-z][a-z0-9-]{1,39}")
REFERENCE = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,12}-\d{4}-\d{5,9}")
B64_CHARS = re.compile(rb"[A-Za-z0-9_-]*={0,2}")

# ---- domain separation ------------------------------------------------------------------------------

SIGNATURE_CONTEXT = b"liaison-bundle/v1/signature\n"
RECEIPT_SIGNATURE_CONTEXT = b"liaison-receipt/v1/signature\n"
PAYLOAD_INFO = b"liaison-bundle/v1/payload"
X25519_INFO = b"liaison-bundle/v1/x25519|"
ARGON2ID_INFO = b"liaison-bundle/v1/argon2id|"
RECEIPT_INFO = b"liaison-receipt/v1/seal|"
TRANSITION_CONTEXT = b"liaison-key-transition/v1\n"


def fernet_token_length(plaintext_bytes: int) -> int:
    """Exact length of the base64url Fernet token for a plaintext of this many bytes."""
    raw = 1 + 8 + 16 + 16 * (plaintext_bytes // 16 + 1) + 32
    return 4 * ((raw + 2) // 3)


MAX_CHUNK_TOKEN = fernet_token_length(MAX_CHUNK_PLAINTEXT)
WRAPPED_KEY_TOKEN = fernet_token_length(FILE_KEY_BYTES)
MIN_TOKEN = fernet_token_length(0)
