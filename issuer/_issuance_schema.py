"""SQL of the SQLite issuance store: the schema and the fixed statements.

Every statement is a constant with ``?`` placeholders; the ``(? IS NULL OR column = ?)``
form gives optional filters without building SQL from strings.
"""

from __future__ import annotations

from typing import Final

SCHEMA_VERSION: Final = 2

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS offers (
    offer_id TEXT PRIMARY KEY,
    credential_type TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    format TEXT NOT NULL,
    claims TEXT,
    code_hash TEXT NOT NULL UNIQUE,
    tx_code_hash TEXT,
    created_at REAL NOT NULL,
    code_expires_at REAL NOT NULL,
    deferred INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0,
    void INTEGER NOT NULL DEFAULT 0,
    ref_hash TEXT UNIQUE,
    sealed BLOB
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    dpop_jkt TEXT
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS issuances (
    batch_id TEXT PRIMARY KEY,
    credential_type TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_at REAL NOT NULL,
    offer_id TEXT,
    notification_id TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS issuances_offer ON issuances (offer_id);
CREATE TABLE IF NOT EXISTS issued_status (
    list_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    PRIMARY KEY (list_id, idx)
);
CREATE TABLE IF NOT EXISTS deferred (
    transaction_hash TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    holder_jwks TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    approved INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    event TEXT NOT NULL,
    description TEXT,
    received_at REAL NOT NULL
);
"""

#: Version 1 stores lack the DPoP binding of access tokens (RFC 9449 §6): added in place.
MIGRATE_1_TO_2: Final = "ALTER TABLE access_tokens ADD COLUMN dpop_jkt TEXT"

OFFER_BY_ID: Final = (
    "SELECT offer_id, credential_type, configuration_id, format, claims, code_hash,"
    " tx_code_hash, created_at, code_expires_at, deferred, attempts, used, void FROM offers"
    " WHERE offer_id = ?"
)
OFFER_BY_CODE: Final = (
    "SELECT offer_id, credential_type, configuration_id, format, claims, code_hash,"
    " tx_code_hash, created_at, code_expires_at, deferred, attempts, used, void FROM offers"
    " WHERE code_hash = ?"
)
OFFER_INSERT: Final = (
    "INSERT INTO offers (offer_id, credential_type, configuration_id, format, claims,"
    " code_hash, tx_code_hash, created_at, code_expires_at, deferred, ref_hash, sealed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
ISSUANCE_BY_ID: Final = (
    "SELECT batch_id, credential_type, format, status, issued_at, offer_id, notification_id"
    " FROM issuances WHERE batch_id = ?"
)
ISSUANCES: Final = (
    "SELECT batch_id, credential_type, format, status, issued_at, offer_id, notification_id"
    " FROM issuances WHERE (? IS NULL OR offer_id = ?) ORDER BY issued_at, rowid"
)
DEFERRED_UNDELIVERED: Final = (
    "SELECT transaction_hash, offer_id, configuration_id, holder_jwks, created_at,"
    " expires_at, approved FROM deferred WHERE transaction_hash = ? AND delivered = 0"
)
DEFERRED_ANY: Final = (
    "SELECT transaction_hash, offer_id, configuration_id, holder_jwks, created_at,"
    " expires_at, approved FROM deferred WHERE transaction_hash = ?"
)
DEFERRED_PENDING: Final = (
    "SELECT transaction_hash, offer_id, configuration_id, holder_jwks, created_at,"
    " expires_at, approved FROM deferred WHERE approved = 0 AND delivered = 0"
    " ORDER BY created_at"
)
NOTIFICATIONS: Final = (
    "SELECT notification_id, batch_id, event, description, received_at FROM notifications"
    " WHERE (? IS NULL OR batch_id = ?) ORDER BY id"
)
