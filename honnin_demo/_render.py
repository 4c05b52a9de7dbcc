"""What each step of the demo shows in the terminal (text only; no timing happens here)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from honnin.credential_types import CredentialType
from issuer import Offer
from verifier import PresentationRequest, VerificationResult
from wallet import ConsentRequest, HeldCredential, KdfParams, Receipt, Submission, Wallet

from ._privacy import Refused, claim_key
from ._scenarios import Scenario
from ._stage import Stage

__all__ = [
    "consent",
    "display_width",
    "form",
    "log",
    "offer",
    "receipt",
    "request",
    "setup",
    "submission",
    "value_text",
    "wallet",
]


def value_text(value: Any) -> str:
    """A claim value for a person: amounts with separators, objects as compact JSON."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def display_width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: Sequence[tuple[str, str]]) -> str:
    width = max((display_width(left) for left, _ in rows), default=0)
    return "\n".join(
        f"{left}{' ' * (width - display_width(left))}  {right}".rstrip() for left, right in rows
    )


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _label(credential_type: CredentialType, key: str) -> str:
    path = tuple(key.split("."))
    ja, en = credential_type.label(path, "ja"), credential_type.label(path, "en")
    return ja if ja == en else f"{ja} / {en}"


def setup(stage: Stage) -> str:
    """The trust framework and the two services."""
    scenario = stage.scenario
    paths = stage.trust.restricted_claims(scenario.credential_type)
    restricted = ", ".join(sorted(".".join(map(str, p)) for p in paths)) or "nothing"
    rows = [
        ("trust list", str(stage.directory / "trust" / "trust-list.json")),
        ("", f"root CA -> {scenario.issuer_name}, entitled to {scenario.credential_type}"),
        ("", f"access CA -> {scenario.verifier_name}"),
        ("", f"never shared unless registered for: {restricted}"),
    ]
    registration = stage.registration
    if registration is not None:
        entitled = registration.entitlements.get(scenario.credential_type, frozenset())
        rows.append((
            "", f"registrar -> {registration.name}: {len(entitled)} claims of"
            f" {scenario.credential_type} for its purpose, until"
            f" {_when(registration.expires_at)[:10]}",
        ))  # fmt: skip
    rows += [
        ("issuer", f"{stage.issuer_server.url}  OpenID4VCI 1.0, SQLite issuer.sqlite3"),
        ("verifier", f"{stage.verifier_server.url}  OpenID4VP 1.0, SQLite verifier.sqlite3"),
    ]
    return _table(rows)


def offer(scenario: Scenario, made: Offer, credential_type: CredentialType) -> str:
    """The offer's QR code and the Transaction Code sent by another channel."""
    names = f"{credential_type.name('ja')} / {credential_type.name('en')}"
    return "\n".join(
        [
            f"{names} for {scenario.holder} ({made.format.value})",
            "scan with the wallet:",
            made.qr_text().rstrip("\n"),
            made.uri,
            f"transaction code, sent separately (e.g. by e-mail): {made.tx_code}",
        ]
    )


def wallet(opened: Wallet, kdf_text: str, kdf: KdfParams) -> str:
    """Where the wallet lives and how its key is protected."""
    strength = "the default" if kdf == KdfParams.STRONG else "lighter than the default"
    return _table(
        [
            ("wallet", f"{opened.path.name}, encrypted at rest (AES-GCM records)"),
            ("PIN key", f"{kdf_text} ({strength})"),
        ]
    )


def receipt(received: Receipt) -> str:
    """What the wallet stored."""
    lines = []
    for held in received.credentials:
        lines.append(
            f"{held.copies} copies of {held.name('ja')} / {held.name('en')} from"
            f" {held.issuer_name} (issuer {held.trust}), each bound to its own key"
        )
    if received.sender_constrained:
        lines.append("the access token was DPoP-bound to a key made for this issuance (RFC 9449)")
    if received.notified:
        lines.append("the issuer was notified: credential_accepted (OpenID4VCI §11)")
    return "\n".join(lines)


def request(
    scenario: Scenario,
    made: PresentationRequest,
    kept_out: Sequence[Refused],
    credential_type: CredentialType,
) -> str:
    """The claims the procedure wanted and what its registration kept out, then the
    request's QR code, purpose and the claims asked for."""
    lines = []
    if kept_out:
        wanted = ", ".join((*scenario.required, *scenario.optional))
        lines.append(f"the back office wants: {wanted}")
        for key, reason, _ in kept_out:
            lines.append(
                f"  [refused] {_label(credential_type, key)}: {reason}; its registration does"
                " not name it, so the verifier refuses to ask (a wallet would refuse to send)"
            )
    asked = [*scenario.required]
    if scenario.optional and not kept_out:
        asked.append(f"and, if the wallet may release it: {', '.join(scenario.optional)}")
    if scenario.pseudonym:
        asked.append("and a pairwise pseudonym for this verifier only")
    lines += [
        "scan with the wallet:",
        made.qr_text().rstrip("\n"),
        made.uri,
        f"purpose: {made.purpose}",
        f"asks for: {', '.join(asked)}",
    ]
    return "\n".join(lines)


def consent(shown: ConsentRequest) -> str:
    """The consent screen: who asks, why, what would be sent, what is refused."""
    who = shown.verifier
    trust = who.trust.value + (f" (anchor: {who.anchor_subject})" if who.anchor_subject else "")
    lines = [
        _table(
            [
                ("who asks", f"{who.name} ({who.client_id})"),
                ("verifier", trust),
                ("registered", _registration(shown)),
                ("why", shown.purpose),
            ]
        )
    ]
    for choice in shown.credentials:
        if choice.issuer_trust == "self_issued":
            lines.append(
                f"  [send] {choice.name('ja')} / {choice.name('en')}: derived by this wallet"
                " for this verifier alone (another verifier gets an unrelated one)"
            )
            continue
        lines.append(
            f"from {choice.name('ja')} / {choice.name('en')} by {choice.issuer_name}"
            f" ({choice.copies_left} copies left):"
        )
        rows = []
        for claim in choice.claims:
            ja, en = claim.label("ja"), claim.label("en")
            kind = "required" if claim.required else "optional"
            rows.append((f"  [send] {ja} / {en}", f"{value_text(claim.value)}  ({kind})"))
        lines.append(_table(rows))
        if choice.always_disclosed:
            always = ", ".join(choice.always_disclosed)
            lines.append(f"  always visible (not selectively disclosable): {always}")
    for refused in shown.refused:
        label = f"{refused.label('ja')} / {refused.label('en')}"
        lines.append(f"  [refused] {label}: {refused.message}")
    return "\n".join(lines)


def _registration(shown: ConsentRequest) -> str:
    who = shown.verifier
    registration = who.registration
    if registration is None:
        why = f": {who.registration_error}" if who.registration_error else ""
        return f"{who.registration_status}{why}"
    check = shown.registration_check
    within = "the request is within it" if check is None or check.allowed else "OVER-ASKING"
    return (
        f"{who.registration_status} (registrar {registration.registrar}), until"
        f" {_when(registration.expires_at)[:10]}; {within}"
    )


def submission(
    sent: Submission, credential_format: str, copies_left: int, held: HeldCredential, policy: str
) -> str:
    """What left the wallet, what the verifier answered, and the copies left."""
    kind = "SD-JWT VC + KB-JWT" if credential_format == "dc+sd-jwt" else "mdoc DeviceResponse"
    spent = "deleted with its key" if policy == "once" else "kept"
    return (
        f"{kind}, encrypted to the verifier's key (direct_post.jwt): HTTP {sent.status}\n"
        f"usage policy {policy}: the copy used is {spent}; {copies_left} of {held.copies}"
        " copies left"
    )


def form(result: VerificationResult, credential_type: CredentialType) -> str:
    """The verifier's prefilled form with the verified values."""
    if not result.verified:
        errors = "; ".join(f"{e.code}: {e.message}" for e in result.errors)
        return f"NOT VERIFIED: {errors or 'the response was refused'}"
    found = [c for cs in result.credentials.values() for c in cs]
    issued = [c for c in found if c.trust.entitlement != "self_issued"]
    rows = [
        (_label(credential_type, key), value_text(value))
        for credential in issued
        for key, value in credential.claims.items()
    ]
    lines = [_table(rows)]
    if result.pseudonym is not None:
        lines.append(
            f"pairwise pseudonym: {result.pseudonym} (proved over this request's nonce;"
            " recognises the person next time, without the My Number)"
        )
    for credential in issued:
        lines.append(
            f"verified: issuer {credential.issuer_name} ({credential.trust.entitlement}:"
            f" {credential.trust.anchor_subject}), status {credential.status},"
            f" holder binding {'checked' if credential.holder_binding else 'absent'}"
        )
    return "\n".join(lines)


def _claims(items: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(
        f"{item['credential_type']}: {', '.join(claim_key(c) for c in item['claims']) or '-'}"
        for item in items
    )


def log(
    entry: Mapping[str, Any] | None,
    entries: Sequence[Mapping[str, Any]],
    head: Mapping[str, Any],
) -> str:
    """The log entry of this presentation (who, when, why, which claim paths, the outcome)
    and the verified hash chain."""
    lines = []
    if entry is None:
        lines.append("NO ENTRY for this presentation")
    else:
        rows = [
            ("entry", f"#{entry['seq']} {entry['event']}, {_when(entry['time'])}"),
            ("to", f"{entry['party_name']} [{entry['party_id']}]"),
            ("purpose", str(entry["purpose"])),
            ("sent", _claims(entry["disclosed"])),
        ]
        if entry["refused"]:
            rows.append(("refused", _claims(entry["refused"])))
        rows.append(("outcome", str(entry["outcome"])))
        lines.append(_table(rows))
    events = ", ".join(str(e["event"]) for e in entries)
    lines.append(
        f"hash chain verified: {head['count']} entries ({events}), head {head['hash'][:16]}...;"
        " claim paths only, never values"
    )
    return "\n".join(lines)
