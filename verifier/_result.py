"""The typed outcome of a verification (roles contract §4).

A ``VerificationResult`` says whether the response as a whole verified, what each credential
query was answered with (the verified claims only, by claim path), who issued it and why it
is trusted, and, when anything failed, a structured error per credential. Claims disclosed
beyond the query are never carried: only their paths are flagged.

Claim keys are the claims-path pointers of the query written as text: ``"payment_amount"``,
``"recipient.name"``, ``"dependents.0.name"``, ``"dependents.*.name"`` (``*`` for a null
component, OpenID4VP 1.0 §7). For mdoc the key is the catalogue claim the data element
stands for (or the element identifier), so a form reads the same key in either format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final

__all__ = [
    "CredentialError",
    "FlaggedClaim",
    "RecordedResult",
    "TrustDecision",
    "VerificationResult",
    "VerifiedCredential",
    "path_key",
]


def path_key(path: tuple[str | int | None, ...]) -> str:
    """A claims path pointer as text: components joined by ``.``, ``None`` as ``*``."""
    return ".".join("*" if c is None else str(c) for c in path)


@dataclass(frozen=True, slots=True)
class CredentialError:
    """Why a credential (or the response) was not accepted.

    ``code`` is the ``HonninError.code`` of the failed check (``invalid_key_binding``,
    ``untrusted_issuer``, ``revoked``, ``claims_missing``, ...); ``query_id`` names the DCQL
    Credential Query (``None`` for the response as a whole); ``index`` the presentation in
    its VP Token entry; ``reason`` the failed sub-check when the error names one.
    """

    code: str
    message: str
    query_id: str | None = None
    index: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The error as a JSON object (absent members omitted)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        for name in ("query_id", "index", "reason"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CredentialError:
        """Rebuild an error from ``to_json`` output."""
        return cls(
            code=str(data["code"]),
            message=str(data["message"]),
            query_id=data.get("query_id"),
            index=data.get("index"),
            reason=data.get("reason"),
        )


@dataclass(frozen=True, slots=True)
class TrustDecision:
    """Why the issuer is believed: the anchor its chain ends at and the entitlement used.

    ``entitlement`` is ``"anchor"`` when the anchor was configured as a bare certificate
    (entitled to every credential type, a developer convenience) or ``"trust_list"`` when
    a trust list entry entitles the issuer to ``credential_type``.
    """

    issuer_subject: str
    anchor_subject: str
    anchor_sha256: str
    entitlement: str
    trust_list: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The decision as a JSON object."""
        return {
            "issuer_subject": self.issuer_subject,
            "anchor_subject": self.anchor_subject,
            "anchor_sha256": self.anchor_sha256,
            "entitlement": self.entitlement,
            "trust_list": self.trust_list,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrustDecision:
        """Rebuild a decision from ``to_json`` output."""
        return cls(
            issuer_subject=str(data["issuer_subject"]),
            anchor_subject=str(data["anchor_subject"]),
            anchor_sha256=str(data["anchor_sha256"]),
            entitlement=str(data["entitlement"]),
            trust_list=data.get("trust_list"),
        )


@dataclass(frozen=True, slots=True)
class FlaggedClaim:
    """A claim the wallet disclosed although the query did not ask for it (OpenID4VP 1.0
    §6.4.1 "MUST NOT return" / HOSTILE-CASES M9). Its value is dropped; only the path is
    kept so the verifier can report the wallet."""

    query_id: str
    path: str

    def to_json(self) -> dict[str, Any]:
        """The flag as a JSON object."""
        return {"query_id": self.query_id, "path": self.path}


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """One presentation that passed every check and answers its Credential Query.

    ``claims`` holds the requested claims only (by claim key). ``issuer`` is the SD-JWT VC
    ``iss`` or, for mdoc, the document signer's subject; ``status`` is ``"valid"`` when a
    status list said so, ``"none"`` when the credential carries no status reference.
    """

    query_id: str
    format: str
    credential_type: str | None
    type_value: str
    issuer: str
    issuer_name: str
    trust: TrustDecision
    claims: Mapping[str, Any] = field(repr=False)
    status: str
    holder_binding: bool

    def __init__(
        self,
        query_id: str,
        format: str,
        credential_type: str | None,
        type_value: str,
        issuer: str,
        issuer_name: str,
        trust: TrustDecision,
        claims: Mapping[str, Any],
        status: str,
        holder_binding: bool,
    ) -> None:
        # One of these is built per verified presentation: storing through the slot
        # descriptors costs a quarter of the dataclass-generated frozen __init__
        # (object.__setattr__ per field). Instances stay frozen.
        (set_query_id, set_format, set_type, set_value, set_issuer, set_name, set_trust,
         set_claims, set_status, set_binding) = _VERIFIED_CREDENTIAL  # fmt: skip
        set_query_id(self, query_id)
        set_format(self, format)
        set_type(self, credential_type)
        set_value(self, type_value)
        set_issuer(self, issuer)
        set_name(self, issuer_name)
        set_trust(self, trust)
        set_claims(self, claims)
        set_status(self, status)
        set_binding(self, holder_binding)

    def __getitem__(self, key: str) -> Any:
        return self.claims[key]

    def to_json(self) -> dict[str, Any]:
        """The credential as a JSON object."""
        return {
            "query_id": self.query_id,
            "format": self.format,
            "credential_type": self.credential_type,
            "type": self.type_value,
            "issuer": self.issuer,
            "issuer_name": self.issuer_name,
            "trust": self.trust.to_json(),
            "claims": dict(self.claims),
            "status": self.status,
            "holder_binding": self.holder_binding,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifiedCredential:
        """Rebuild a credential from ``to_json`` output."""
        return cls(
            query_id=str(data["query_id"]),
            format=str(data["format"]),
            credential_type=data.get("credential_type"),
            type_value=str(data["type"]),
            issuer=str(data["issuer"]),
            issuer_name=str(data["issuer_name"]),
            trust=TrustDecision.from_json(data["trust"]),
            claims=dict(data["claims"]),
            status=str(data["status"]),
            holder_binding=bool(data["holder_binding"]),
        )


_VERIFIED_CREDENTIAL: Final = tuple(
    VerifiedCredential.__dict__[f.name].__set__ for f in fields(VerifiedCredential)
)

#: Looks up the display label of a claim: (credential type id, claim key, language) -> label.
LabelLookup = Callable[[str, str, str], str | None]


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of ``Verifier.verify`` (OpenID4VP 1.0 §8.6) for one transaction.

    ``verified`` is true only when every presentation that was kept verified and the kept
    presentations satisfy the DCQL query. When it is false, ``credentials`` and ``claims``
    are empty (nothing of a failed response is passed on) and ``errors`` says why, per
    credential query. ``flagged`` lists claims disclosed beyond the query (values dropped).

    >>> result["payment_amount"]            # the verified value, ready for a form
    >>> result.form(labels="ja")             # [("支払金額", 5_000_000), ...]
    """

    verified: bool
    transaction_id: str
    credentials: Mapping[str, tuple[VerifiedCredential, ...]] = field(repr=False)
    errors: tuple[CredentialError, ...] = ()
    flagged: tuple[FlaggedClaim, ...] = ()
    verified_at: float = 0.0
    wallet_error: str | None = None
    _labels: LabelLookup | None = field(default=None, repr=False, compare=False)

    def __init__(
        self,
        verified: bool,
        transaction_id: str,
        credentials: Mapping[str, tuple[VerifiedCredential, ...]],
        errors: tuple[CredentialError, ...] = (),
        flagged: tuple[FlaggedClaim, ...] = (),
        verified_at: float = 0.0,
        wallet_error: str | None = None,
        _labels: LabelLookup | None = None,
    ) -> None:
        # Built once per response: one dict update instead of the dataclass-generated
        # frozen __init__'s object.__setattr__ per field. Instances stay frozen.
        self.__dict__.update(
            verified=verified,
            transaction_id=transaction_id,
            credentials=credentials,
            errors=errors,
            flagged=flagged,
            verified_at=verified_at,
            wallet_error=wallet_error,
            _labels=_labels,
        )

    @property
    def claims(self) -> Mapping[str, Any]:
        """Every verified claim by claim key, across credentials (the first credential query
        in query order wins when two answer the same key; see ``claims_of``)."""
        flat: dict[str, Any] = {}
        for credentials in self.credentials.values():
            for credential in credentials:
                for key, value in credential.claims.items():
                    flat.setdefault(key, value)
        return flat

    @property
    def pseudonym(self) -> str | None:
        """The pairwise pseudonym the wallet proved (spec/PROFILE.md "Pairwise pseudonyms"):
        stable for this verifier, unrelated elsewhere; None when none was asked for."""
        for credentials in self.credentials.values():
            for credential in credentials:
                if credential.trust.entitlement == "self_issued" and "sub" in credential.claims:
                    return str(credential.claims["sub"])
        return None

    def claims_of(self, query_id: str) -> Mapping[str, Any]:
        """The claims of the (first) credential that answered ``query_id``."""
        found = self.credentials.get(query_id, ())
        return dict(found[0].claims) if found else {}

    def __getitem__(self, key: str) -> Any:
        return self.claims[key]

    def __contains__(self, key: object) -> bool:
        return key in self.claims

    def __iter__(self) -> Iterator[str]:
        return iter(self.claims)

    def form(self, labels: str = "ja") -> list[tuple[str, Any]]:
        """(label, value) rows for prefilling a form, labels from the credential type
        catalogue in ``labels`` (``"ja"`` or ``"en"``); the claim key when none is known."""
        rows: list[tuple[str, Any]] = []
        seen: set[str] = set()
        for credentials in self.credentials.values():
            for credential in credentials:
                for key, value in credential.claims.items():
                    if key in seen:
                        continue
                    seen.add(key)
                    label = None
                    if self._labels is not None and credential.credential_type is not None:
                        label = self._labels(credential.credential_type, key, labels)
                    rows.append((label or key, value))
        return rows

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object (what ``GET /transactions/{id}/result`` returns)."""
        return {
            "verified": self.verified,
            "transaction_id": self.transaction_id,
            "credentials": {
                qid: [c.to_json() for c in found] for qid, found in self.credentials.items()
            },
            "claims": self.claims,
            "errors": [e.to_json() for e in self.errors],
            "flagged": [f.to_json() for f in self.flagged],
            "verified_at": self.verified_at,
            "wallet_error": self.wallet_error,
            "pseudonym": self.pseudonym,
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, labels: LabelLookup | None = None
    ) -> VerificationResult:
        """Rebuild a result from ``to_json`` output (e.g. fetched from the service)."""
        return cls(
            verified=bool(data["verified"]),
            transaction_id=str(data["transaction_id"]),
            credentials={
                str(qid): tuple(VerifiedCredential.from_json(c) for c in found)
                for qid, found in data.get("credentials", {}).items()
            },
            errors=tuple(CredentialError.from_json(e) for e in data.get("errors", ())),
            flagged=tuple(
                FlaggedClaim(str(f["query_id"]), str(f["path"])) for f in data.get("flagged", ())
            ),
            verified_at=float(data.get("verified_at", 0.0)),
            wallet_error=data.get("wallet_error"),
            _labels=labels,
        )

    def with_labels(self, labels: LabelLookup | None) -> VerificationResult:
        """This result with a label lookup for ``form`` attached."""
        return VerificationResult(
            verified=self.verified,
            transaction_id=self.transaction_id,
            credentials=self.credentials,
            errors=self.errors,
            flagged=self.flagged,
            verified_at=self.verified_at,
            wallet_error=self.wallet_error,
            _labels=labels,
        )


class RecordedResult(Mapping[str, Any]):
    """A ``VerificationResult`` handed to a store: a read-only JSON mapping built on first
    read. An in-memory store keeps it as it is (and gives the result object back); a
    durable store serializes it (``dict(record)``)."""

    __slots__ = ("_json", "result")

    def __init__(self, result: VerificationResult) -> None:
        self.result = result
        self._json: dict[str, Any] | None = None

    def _data(self) -> dict[str, Any]:
        if self._json is None:
            self._json = self.result.to_json()
        return self._json

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())
