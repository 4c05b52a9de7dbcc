"""Signed verifier registrations: build and verify (spec/PROFILE.md "Verifier registrations").

A registrar of the trust framework signs, for one verifier (its OpenID4VP ``client_id``) and
one intended use (a purpose), the credential types and claims the verifier may request. The
verifier sends the JWT in its request's ``verifier_info`` (OpenID4VP 1.0 §5.11); the wallet
verifies it with ``verify_registration`` and compares the request with ``check_request``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from honnin.credential_types import Catalogue, ClaimPath, load_catalogue
from honnin.errors import (
    Expired,
    InvalidClaim,
    InvalidSignature,
    MalformedJws,
    NotYetValid,
    PolicyViolation,
    UntrustedIssuer,
    UntrustedVerifier,
)
from honnin.jose import DEFAULT_ALLOWED, JwsAlgorithm, PrivateKey, parse_jws, sign_jws, verify_jws
from honnin.trust import VerifiedChain, certificates_from_x5c, certificates_to_x5c, validate_chain

from ._constants import (
    CLOCK_SKEW_SECONDS,
    MAX_CLAIMS_PER_ENTRY,
    MAX_CREDENTIAL_ENTRIES,
    MAX_LIFETIME_SECONDS,
    MAX_TEXT,
    MSO_MDOC,
    REGISTRATION_TYP,
    SD_JWT_VC,
)
from ._paths import covers, json_paths, mdoc_elements, parse_path, type_key

__all__ = ["VerifiedRegistration", "build_registration", "verify_registration"]


@dataclass(frozen=True)
class VerifiedRegistration:
    """A registration whose signature chains to a registrar anchor, for the expected verifier,
    valid at the verification instant. Only ``verify_registration`` builds these.

    ``entitlements`` maps a catalogue type id (or, outside the catalogue, the ``vct`` /
    docType as written) to the claim paths the verifier may request, merged over formats.
    ``purposes`` maps a language tag to the registered purpose in that language.
    """

    client_id: str
    name: str
    purposes: Mapping[str, str]
    entitlements: Mapping[str, frozenset[ClaimPath]]
    registrar: str
    issued_at: int
    expires_at: int
    token: str = field(repr=False)
    chain: VerifiedChain = field(repr=False)

    def purpose(self, lang: str = "ja") -> str:
        """The registered purpose in ``lang`` (else the first one registered)."""
        if lang in self.purposes:
            return self.purposes[lang]
        primary = lang.split("-", 1)[0].lower()
        for tag, text in self.purposes.items():
            if tag.split("-", 1)[0].lower() == primary:
                return text
        return next(iter(self.purposes.values()))

    def registers_purpose(self, text: str) -> bool:
        """Whether ``text`` is the registered purpose in one of its languages."""
        wanted = " ".join(text.split())
        return any(" ".join(v.split()) == wanted for v in self.purposes.values())

    def entitled(self, credential_type: str, path: Sequence[str | int | None]) -> bool:
        """Whether the verifier may request ``path`` of ``credential_type`` (any of its
        catalogue names)."""
        paths = self.entitlements.get(type_key(credential_type, load_catalogue()), frozenset())
        wanted = tuple(path)
        return any(covers(p, wanted) for p in paths)


def _texts(purpose: str | Mapping[str, str], lang: str) -> list[dict[str, str]]:
    items = {lang: purpose} if isinstance(purpose, str) else dict(purpose)
    if not items or not all(isinstance(v, str) and v.strip() for v in items.values()):
        raise ValueError("a registration needs a non-empty purpose")
    return [{"lang": tag, "value": text} for tag, text in items.items()]


def _entries(
    entitlements: Mapping[str, Iterable[Sequence[str | int | None]]],
    formats: Sequence[str],
    catalogue: Catalogue,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, raw_paths in entitlements.items():
        ctype = catalogue.resolve(name)
        paths = [parse_path(list(p), f"entitlements[{name!r}]") for p in raw_paths]
        if SD_JWT_VC in formats:
            out.append(
                {
                    "format": SD_JWT_VC,
                    "meta": {"vct_values": [ctype.vct]},
                    "claim": [{"path": list(p)} for p in paths],
                }
            )
        if MSO_MDOC in formats:
            elements = [e for p in paths for e in mdoc_elements(ctype, p)]
            if elements:
                out.append(
                    {
                        "format": MSO_MDOC,
                        "meta": {"doctype_value": ctype.doctype},
                        "claim": [{"path": [ns, ident]} for ns, ident in dict.fromkeys(elements)],
                    }
                )
    return out


def build_registration(
    *,
    client_id: str,
    name: str,
    purpose: str | Mapping[str, str],
    entitlements: Mapping[str, Iterable[Sequence[str | int | None]]],
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    issued_at: int,
    expires_at: int,
    lang: str = "ja",
    formats: Sequence[str] = (SD_JWT_VC, MSO_MDOC),
    catalogue: Catalogue | None = None,
) -> str:
    """Sign a verifier registration (the registrar's side).

    ``entitlements`` maps catalogue types (id, ``vct`` or docType) to claim paths; each type
    is written for every format of ``formats`` (the mdoc entry lists the data elements that
    express the paths exactly). ``purpose`` is a text in ``lang`` or a mapping of language
    tags to texts. ``chain`` is the registrar's certificate chain, leaf first.

    Example::

        token = build_registration(
            client_id="x509_san_dns:agency.example", name="Hello Work",
            purpose="unemployment benefit application",
            entitlements={"withholding-slip": [["payment_amount"], ["withholding_tax"]]},
            key=registrar.private_key, chain=registrar.chain,
            issued_at=now, expires_at=now + 180 * 86400)

    Raises:
        UnknownCredentialType: a type outside the catalogue.
        InvalidClaim: a malformed claim path.
        ValueError: an empty name, purpose, client_id or entitlement, or a lifetime that is
            not positive or longer than 12 months.
    """
    if not client_id or not name.strip():
        raise ValueError("a registration needs a client_id and a name")
    if not 0 < expires_at - issued_at <= MAX_LIFETIME_SECONDS:
        raise ValueError("a registration lives between 1 s and 12 months")
    credentials = _entries(entitlements, formats, catalogue or load_catalogue())
    if not credentials:
        raise ValueError("a registration entitles at least one credential type")
    payload = {
        "sub": client_id,
        "name": name,
        "purpose": _texts(purpose, lang),
        "credentials": credentials,
        "iat": int(issued_at),
        "exp": int(expires_at),
    }
    header = {"typ": REGISTRATION_TYP, "x5c": certificates_to_x5c(chain)}
    return sign_jws(payload, key, header=header)


# -- verification ----------------------------------------------------------------------------


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if type(value) is not int:
        raise InvalidClaim(f"registration {name} must be an integer (RFC 7519 §4.1)", claim=name)
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise InvalidClaim(f"registration {where} must be 1..{MAX_TEXT} characters", claim=where)
    return value


def _purposes(value: Any) -> dict[str, str]:
    if not isinstance(value, list) or not value or len(value) > 32:
        raise InvalidClaim("registration purpose must be 1..32 {lang, value}", claim="purpose")
    out = {}
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"lang", "value"}:
            raise InvalidClaim(f"purpose[{index}] must be {{lang, value}}", claim="purpose")
        out[_text(item["lang"], f"purpose[{index}].lang")] = _text(
            item["value"], f"purpose[{index}].value"
        )
    return out


def _type_names(entry: Mapping[str, Any], fmt: str, where: str) -> list[str]:
    meta = entry.get("meta")
    if not isinstance(meta, dict):
        raise InvalidClaim(f"{where}.meta must be an object (OpenID4VP 1.0 §6.1)", claim=where)
    if fmt == SD_JWT_VC:
        values = meta.get("vct_values")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v for v in values)
        ):
            raise InvalidClaim(f"{where}.meta.vct_values must name types", claim=where)
        return list(values)
    doctype = meta.get("doctype_value")
    if not isinstance(doctype, str) or not doctype:
        raise InvalidClaim(f"{where}.meta.doctype_value must name a docType", claim=where)
    return [doctype]


def _entitlements(value: Any, catalogue: Catalogue) -> dict[str, frozenset[ClaimPath]]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_CREDENTIAL_ENTRIES:
        raise InvalidClaim(
            f"registration credentials must be 1..{MAX_CREDENTIAL_ENTRIES} entries",
            claim="credentials",
        )
    merged: dict[str, set[ClaimPath]] = {}
    for index, entry in enumerate(value):
        where = f"credentials[{index}]"
        if not isinstance(entry, dict):
            raise InvalidClaim(f"{where} must be an object", claim=where)
        fmt, claims = entry.get("format"), entry.get("claim")
        if not isinstance(claims, list) or not 0 < len(claims) <= MAX_CLAIMS_PER_ENTRY:
            raise InvalidClaim(
                f"{where}.claim must be 1..{MAX_CLAIMS_PER_ENTRY} {{path}} objects", claim=where
            )
        if not all(isinstance(c, dict) and set(c) == {"path"} for c in claims):
            raise InvalidClaim(f"{where}.claim entries are {{path}} objects", claim=where)
        raw_paths = [c["path"] for c in claims]
        if fmt not in (SD_JWT_VC, MSO_MDOC):
            # An entry of a format honnin does not know entitles nothing honnin could send.
            continue
        for name in _type_names(entry, fmt, where):
            ctype = catalogue.find(name)
            if fmt == SD_JWT_VC:
                paths = [parse_path(p, f"{where}.claim[{i}].path") for i, p in enumerate(raw_paths)]
            else:
                paths = json_paths(ctype, raw_paths, f"{where}.claim")
            merged.setdefault(type_key(name, catalogue), set()).update(paths)
    return {name: frozenset(paths) for name, paths in merged.items()}


def _as_datetime(now: float | datetime) -> datetime:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise TypeError("verify_registration needs an aware datetime or POSIX seconds")
        return now
    return datetime.fromtimestamp(now, tz=UTC)


def verify_registration(
    token: str,
    *,
    registrar_anchors: Sequence[x509.Certificate],
    client_id: str,
    now: float | datetime,
    algorithms: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    catalogue: Catalogue | None = None,
) -> VerifiedRegistration:
    """Verify a verifier registration JWT for the verifier ``client_id`` at ``now``.

    Checks, in order: explicit ``typ`` (RFC 7515 §4.1.9); the ``x5c`` chain validates to one
    of ``registrar_anchors`` (RFC 5280 §6; none configured trusts nothing); the signature
    under the leaf with an allowed algorithm; ``iat``/``exp`` (60 s skew on ``iat``, at most
    12 months apart); ``sub`` equals ``client_id`` (prefix included); the purpose and the
    entitled credentials are well formed.

    Raises:
        UntrustedVerifier: no registrar anchors, a chain that does not lead to one, or a
            signature that does not verify (``reason``: ``no_registrars``, ``registrar``,
            ``signature``, ``no_x5c``): a forged registration.
        Expired / NotYetValid: the registration (or the registrar certificate) is outside
            its validity.
        PolicyViolation: the registration is for another verifier (``reason="client_id"``).
        InvalidClaim / MalformedJws / MalformedInput / TooLarge / UnsupportedAlgorithm: a
            malformed registration.
    """
    jws = parse_jws(token)
    if jws.header.get("typ") != REGISTRATION_TYP:
        raise MalformedJws(
            f"a verifier registration has typ {REGISTRATION_TYP!r} (RFC 7515 §4.1.9)",
            typ=str(jws.header.get("typ")),
        )
    if "x5c" not in jws.header:
        raise UntrustedVerifier("the registration carries no registrar x5c", reason="no_x5c")
    if not registrar_anchors:
        # Fail closed: with no registrar configured no registration is believed.
        raise UntrustedVerifier("no registrar anchors configured", reason="no_registrars")
    at = _as_datetime(now)
    try:
        chain = validate_chain(certificates_from_x5c(jws.header["x5c"]), registrar_anchors, at=at)
    except (UntrustedIssuer, InvalidSignature) as exc:
        raise UntrustedVerifier(
            f"the registration is not signed by a trusted registrar: {exc.message}",
            reason="registrar",
        ) from exc
    try:
        verify_jws(jws, chain.public_key, allowed=algorithms)  # type: ignore[arg-type]
    except InvalidSignature as exc:
        raise UntrustedVerifier(
            "the registration signature does not verify under the registrar certificate",
            reason="signature",
        ) from exc
    claims = jws.unverified_claims()  # verified by now
    issued_at, expires_at = _int_claim(claims, "iat"), _int_claim(claims, "exp")
    seconds = at.timestamp()
    if issued_at > seconds + CLOCK_SKEW_SECONDS:
        raise NotYetValid("the registration is issued in the future", iat=issued_at)
    if seconds >= expires_at:
        raise Expired("the registration has expired", exp=expires_at)
    if not 0 < expires_at - issued_at <= MAX_LIFETIME_SECONDS:
        raise InvalidClaim("a registration lives at most 12 months", claim="exp")
    subject = claims.get("sub")
    if not isinstance(subject, str) or subject != client_id:
        raise PolicyViolation(
            "the registration is for another verifier than the one asking",
            reason="client_id",
            client_id=client_id,
        )
    return VerifiedRegistration(
        client_id=client_id,
        name=_text(claims.get("name"), "name"),
        purposes=_purposes(claims.get("purpose")),
        entitlements=_entitlements(claims.get("credentials"), catalogue or load_catalogue()),
        registrar=chain.leaf.subject.rfc4514_string(),
        issued_at=issued_at,
        expires_at=expires_at,
        token=token,
        chain=chain,
    )
