"""The Liaison bundle and receipt formats, version 1 (docs/bundle-format.md): framing, stanzas, chunks, signatures.

Modelled on age v1 and saltpack with Fernet as the symmetric layer. A bundle is a version line, a
length-prefixed canonical-JSON header (with one stanza per recipient wrapping a fresh file key), a
sequence of length-prefixed Fernet chunk tokens, and an Ed25519 signature over the header and the hash
of every chunk token. Readers check every size limit and every encoding before any expensive work, and
verify the signature before anything is decrypted. Every failure raises `BundleError`.

The package, by part of the format:
- `limits`  — every size limit, the TLP labels, field patterns and domain-separation labels (defined once);
- `strict`  — strict canonical-JSON decoding and bounded field checks shared by every reader (and cards);
- `stanza`  — key stanzas (X25519, passphrase) and the keys derived from the file key;
- `header`  — the preamble: version line, header object, its parser;
- `record`  — the record object schema and content hash;
- `writer`  — `BundleWriter`; `reader` — `BundleReader`; `receipt` — receipts.

Everything callers need is re-exported here, so `from crypto.bundle import BundleReader` keeps working.
"""

from __future__ import annotations

from crypto.bundle.header import (
    HEADER_FIELDS,
    Header,
    Recipient,
    encode_preamble,
    header_object,
    parse_header,
    read_preamble,
    sniff,
)
from crypto.bundle.limits import (
    ARGON2ID_INFO,
    B64_CHARS,
    BUNDLE_ID,
    BUNDLE_PREFIX,
    CODE,
    DEFAULT_CHUNK_RECORDS,
    DOMAIN,
    FILE_KEY_BYTES,
    FRAME_CHUNK,
    FRAME_SIGNATURE,
    HEX64,
    MAX_AUTHOR,
    MAX_CARD_BYTES,
    MAX_CHUNK_PLAINTEXT,
    MAX_CHUNK_RECORDS,
    MAX_CHUNK_TOKEN,
    MAX_CODE,
    MAX_DOMAIN,
    MAX_HEADER_BYTES,
    MAX_MINISTRY_NAME,
    MAX_RECEIPT_BODY,
    MAX_RECEIPT_ENVELOPE,
    MAX_RECEIPT_ITEMS,
    MAX_RECIPIENTS,
    MAX_RECORDS,
    MAX_REFERENCE,
    MAX_RELEASABLE_TO,
    MAX_REVISION,
    MAX_SEQ,
    MAX_STANZA_ITERATIONS,
    MAX_STANZA_LANES,
    MAX_STANZA_MEMORY_KIB,
    MAX_STANZAS,
    MAX_TEXT,
    MAX_TITLE,
    MAX_VERSION_LINE,
    MIN_TOKEN,
    PAYLOAD_INFO,
    RECEIPT_INFO,
    RECEIPT_LINE,
    RECEIPT_PREFIX,
    RECEIPT_SIGNATURE_CONTEXT,
    REFERENCE,
    SIGNATURE_BYTES,
    SIGNATURE_CONTEXT,
    TARGET_CHUNK_PLAINTEXT,
    TIMESTAMP,
    TLP_LABELS,
    VERSION_LINE,
    WRAPPED_KEY_TOKEN,
    X25519_INFO,
    fernet_token_length,
)
from crypto.bundle.reader import BundleReader
from crypto.bundle.receipt import (
    ReceiptBody,
    ReceiptEnvelope,
    open_receipt,
    read_receipt,
    verify_receipt,
    write_receipt,
)
from crypto.bundle.record import RECORD, RECORD_FIELDS, ObjectSchema, record_hash, validate_record
from crypto.bundle.stanza import Stanza, fernet_for, parse_stanza, passphrase_stanza, payload_key, x25519_stanza
from crypto.bundle.strict import BundleError, format_time, parse_canonical, parse_time, sha256_hex
from crypto.bundle.writer import BundleWriter, new_bundle_id, new_file_key, signed_message

__all__ = [
    "ARGON2ID_INFO", "B64_CHARS", "BUNDLE_ID", "BUNDLE_PREFIX", "CODE", "DEFAULT_CHUNK_RECORDS", "DOMAIN",
    "FILE_KEY_BYTES", "FRAME_CHUNK", "FRAME_SIGNATURE", "HEADER_FIELDS", "HEX64", "MAX_AUTHOR", "MAX_CARD_BYTES",
    "MAX_CHUNK_PLAINTEXT", "MAX_CHUNK_RECORDS", "MAX_CHUNK_TOKEN", "MAX_CODE", "MAX_DOMAIN", "MAX_HEADER_BYTES",
    "MAX_MINISTRY_NAME", "MAX_RECEIPT_BODY", "MAX_RECEIPT_ENVELOPE", "MAX_RECEIPT_ITEMS", "MAX_RECIPIENTS",
    "MAX_RECORDS", "MAX_REFERENCE", "MAX_RELEASABLE_TO", "MAX_REVISION", "MAX_SEQ", "MAX_STANZAS",
    "MAX_STANZA_ITERATIONS", "MAX_STANZA_LANES", "MAX_STANZA_MEMORY_KIB", "MAX_TEXT", "MAX_TITLE",
    "MAX_VERSION_LINE", "MIN_TOKEN", "PAYLOAD_INFO", "RECEIPT_INFO", "RECEIPT_LINE", "RECEIPT_PREFIX",
    "RECEIPT_SIGNATURE_CONTEXT", "RECORD", "RECORD_FIELDS", "REFERENCE", "SIGNATURE_BYTES", "SIGNATURE_CONTEXT",
    "TARGET_CHUNK_PLAINTEXT", "TIMESTAMP", "TLP_LABELS", "VERSION_LINE", "WRAPPED_KEY_TOKEN", "X25519_INFO",
    "BundleError", "BundleReader", "BundleWriter", "Header", "ObjectSchema", "ReceiptBody", "ReceiptEnvelope",
    "Recipient", "Stanza", "encode_preamble", "fernet_for", "fernet_token_length", "format_time",
    "header_object", "new_bundle_id", "new_file_key", "open_receipt", "parse_canonical", "parse_header",
    "parse_stanza", "parse_time", "passphrase_stanza", "payload_key", "read_preamble", "read_receipt",
    "record_hash", "sha256_hex", "signed_message", "sniff", "validate_record", "verify_receipt",
    "write_receipt", "x25519_stanza",
]  # fmt: skip
