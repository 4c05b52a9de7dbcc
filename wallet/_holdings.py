"""The credentials a wallet holds, in its encrypted vault.

One *credential* is a batch of copies of the same claims (OpenID4VCI 1.0 §12.2.4 batch
issuance); each *copy* is bound to its own binding key. Records:

* ``credential/<id>``: type, format, issuer, trust decision, the claims (for matching and
  display), the issuer's DCQL trusted-authority identifiers (``authorities``, OpenID4VP 1.0
  §6.1.1, computed at acceptance so matching parses no certificate), copies left; its index
  holds type, format and ``vct`` / docType for ``find``.
* ``credential_copy/<id>``: the copy in wire form and its key id; index: credential, key,
  and the verifier it was used with under the per-verifier policy.

Every change is one vault transaction, so a crash leaves the old or the new holdings.
Presenting with a copy consumes it *before* the presentation leaves the wallet
(HOSTILE-CASES WL-35): a crash after signing never lets a copy be shown twice.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from honnin.errors import InvalidKeyBinding, MalformedCredential, NotFound, WalletCorrupted
from honnin.identifiers import new_identifier

from ._acceptance import CheckedCopy
from ._authorities import of_copy, parse_stored, to_stored
from ._usage_policy import DEFAULT_LOW_WATER, CopyChoice, CopyUsage, UsagePlanner, UsagePolicy
from ._vault import Vault
from ._vault_records import Entry

__all__ = ["COPY_KIND", "CREDENTIAL_KIND", "CopyPolicy", "HeldCopy", "HeldCredential", "Holdings"]

CREDENTIAL_KIND: Final = "credential"
COPY_KIND: Final = "credential_copy"
_POLICY_SECRET: Final = "wallet.copy-policy"  # noqa: S105 - a secret name, not a secret


class CopyPolicy(StrEnum):
    """How copies are used (DESIGN "Unlinkability"; ARF ISSU_44; ``_usage_policy``).

    ``once`` (also spelled ``once_only``): every presentation takes a fresh copy, which is
    then deleted with its key (WIAM_21). ``per_verifier``: a verifier always gets the same
    copy, two verifiers never the same one. ``rotate``: copies are reused in turn, least
    used first (linkable across verifiers; for issuers that cannot re-issue).
    """

    ONCE = "once"
    PER_VERIFIER = "per_verifier"
    ROTATE = "rotate"

    @classmethod
    def _missing_(cls, value: object) -> CopyPolicy | None:
        return cls.ONCE if value == UsagePolicy.ONCE_ONLY.value else None

    @property
    def usage(self) -> UsagePolicy:
        """The planner's name for this policy."""
        return UsagePolicy.parse(self.value)


@dataclass(frozen=True)
class HeldCredential:
    """A credential in the wallet, as listed to the person.

    ``names`` are the type's display names by locale (``ja``, ``en``); ``claims`` the
    values (SD-JWT VC claims, or mdoc ``{namespace: {element: value}}``), kept out of
    ``repr``. ``authorities``: the issuer's DCQL trusted-authority identifiers (OpenID4VP
    1.0 §6.1.1; ``{"aki": ...}``), ``None`` for a credential stored before they were kept
    (``Holdings.authorities`` computes them from a copy).
    """

    id: str
    credential_type: str
    format: str
    type_value: str
    issuer: str
    issuer_name: str
    trust: str
    copies: int
    accepted_at: float
    valid_until: int | None
    names: Mapping[str, str]
    claims: Mapping[str, Any] = field(repr=False)
    authorities: Mapping[str, frozenset[str]] | None = field(default=None, repr=False)

    def name(self, lang: str = "ja") -> str:
        """The credential type's display name in ``lang`` (``ja`` or ``en``)."""
        return self.names.get(lang) or next(iter(self.names.values()), self.credential_type)


@dataclass(frozen=True)
class HeldCopy:
    """One copy taken for a presentation."""

    id: str
    credential_id: str
    credential: str = field(repr=False)
    key_id: str
    #: What the usage policy decided for this copy (applied by ``Holdings.use``).
    choice: CopyChoice | None = field(default=None, repr=False)


def _usage(entry: Entry) -> CopyUsage:
    index = entry.index
    verifier, uses, last = index.get("verifier"), index.get("uses"), index.get("last_used")
    return CopyUsage(
        entry.id,
        str(index.get("key")),
        verifier if isinstance(verifier, str) else None,
        uses if isinstance(uses, int) else 0,
        float(last) if isinstance(last, int) else None,
    )


class Holdings:
    """The wallet's credentials over an open ``Vault``.

    ``low_water``: fewer fresh copies than this and a credential is running low
    (``_usage_policy``; ARF ISSU_45).
    """

    def __init__(self, vault: Vault, *, low_water: int = DEFAULT_LOW_WATER) -> None:
        self._vault = vault
        self.low_water = low_water

    def _planner(self, policy: CopyPolicy) -> UsagePlanner:
        return UsagePlanner(policy.usage, low_water=self.low_water)

    def _copies(self, credential_id: str, exclude: Collection[str] = ()) -> list[CopyUsage]:
        # Oldest write first: once_only then spends the oldest copies first.
        entries = [
            e for e in self._vault.find(COPY_KIND, credential=credential_id) if e.id not in exclude
        ]
        return [_usage(e) for e in entries]

    # -- storing ---------------------------------------------------------------------------

    def _check_keys(self, copies: Sequence[CheckedCopy]) -> None:
        keys = [c.key_id for c in copies]
        if len(set(keys)) != len(keys):
            # Two copies on one key would be linkable (OpenID4VCI §15.4.1).
            raise InvalidKeyBinding("two copies are bound to the same key", reason="key_reused")
        for key_id in keys:
            try:
                self._vault.signer(key_id)
            except NotFound:
                raise InvalidKeyBinding(
                    "a copy is bound to a key this wallet does not hold", reason="cnf"
                ) from None
            if self._vault.find(COPY_KIND, key=key_id):
                raise InvalidKeyBinding(
                    "a copy is bound to a key another stored copy uses", reason="key_reused"
                )

    def add(self, copies: Sequence[CheckedCopy], *, now: float) -> HeldCredential:
        """Store verified copies of one credential, each with its key (one transaction).

        Raises:
            MalformedCredential: copies of different credentials (WL-18: a batch shares its
                type, issuer, claims and validity).
            InvalidKeyBinding: a key that is not this wallet's, or already in use.
        """
        if not copies:
            raise ValueError("no copies to store")
        first = copies[0]
        if any(
            (c.content, c.issuer, c.format, c.type_value)
            != (first.content, first.issuer, first.format, first.type_value)
            for c in copies
        ):
            raise MalformedCredential(
                "the copies of a batch differ in type, issuer, claims or validity (ARF ISSU_11a)",
                reason="batch_mismatch",
            )
        self._check_keys(copies)
        credential_id = new_identifier(12)
        credential_type = first.credential_type
        names = {lang: credential_type.name(lang) for lang in ("ja", "en")}
        value = {
            "credential_type": credential_type.id,
            "format": first.format.value,
            "type_value": first.type_value,
            "issuer": first.issuer,
            "issuer_name": first.decision.issuer_name,
            "trust": first.trust.value,
            "accepted_at": now,
            "valid_until": first.valid_until,
            "names": names,
            "claims": first.claims,
            "authorities": to_stored(first.authorities),
        }
        with self._vault.transaction():
            for copy in copies:
                self._vault.put(
                    COPY_KIND,
                    secrets.token_urlsafe(12),
                    {"credential": copy.credential, "key": copy.key_id},
                    index={"credential": credential_id, "key": copy.key_id, "verifier": None},
                )
            self._write(credential_id, value, len(copies))
        return _held(credential_id, value, len(copies))

    def _write(self, credential_id: str, value: Mapping[str, Any], copies: int) -> None:
        self._vault.put(
            CREDENTIAL_KIND,
            credential_id,
            dict(value),
            index={
                "type": str(value["credential_type"]),
                "format": str(value["format"]),
                "type_value": str(value["type_value"]),
                "copies": copies,
            },
        )

    # -- reading ---------------------------------------------------------------------------

    def get(self, credential_id: str) -> HeldCredential | None:
        """The credential ``credential_id``, or ``None``."""
        record = self._vault.get(CREDENTIAL_KIND, credential_id)
        if record is None:
            return None
        copies = record.entry.index.get("copies")
        return _held(credential_id, _value(record.value, credential_id), int(copies or 0))

    def list(self, **filters: object) -> list[HeldCredential]:
        """Credentials whose index matches ``filters`` (``type``, ``format``,
        ``type_value``), oldest first."""
        out = []
        for entry in self._vault.find(CREDENTIAL_KIND, **filters):
            held = self.get(entry.id)
            if held is not None:
                out.append(held)
        return out

    def authorities(self, held: HeldCredential) -> Mapping[str, frozenset[str]]:
        """The issuer's DCQL trusted-authority identifiers of ``held`` (OpenID4VP 1.0
        §6.1.1). A credential stored before they were kept gets them from one of its copies
        (parsed once, then stored with the credential); none when no copy can tell."""
        if held.authorities is not None:
            return held.authorities
        found: dict[str, frozenset[str]] = {}
        entries = self._vault.find(COPY_KIND, credential=held.id)
        record = self._vault.get(COPY_KIND, entries[0].id) if entries else None
        wire = record.value.get("credential") if record and isinstance(record.value, dict) else None
        if isinstance(wire, str):
            found = of_copy(wire)
        credential = self._vault.get(CREDENTIAL_KIND, held.id)
        if credential is not None:
            value = dict(_value(credential.value, held.id))
            value["authorities"] = to_stored(found)
            copies = credential.entry.index.get("copies")
            self._write(held.id, value, int(copies or 0))
        return found

    # -- using copies ----------------------------------------------------------------------

    def verifier_tag(self, client_id: str) -> str:
        """A keyed tag for ``client_id`` (the per-verifier policy stores no verifier name)."""
        secret = self._vault.secret(_POLICY_SECRET)
        return hmac.new(secret, client_id.encode(), hashlib.sha256).hexdigest()[:32]

    def available(
        self, credential_ids: Collection[str], policy: CopyPolicy, tag: str | None
    ) -> dict[str, int]:
        """How many presentations to the verifier ``tag`` each credential still allows under
        ``policy`` (``_usage_policy.UsagePlanner.available``; one pass over the copies)."""
        wanted = set(credential_ids)
        by_credential: dict[str, list[CopyUsage]] = {c: [] for c in wanted}
        for entry in self._vault.find(COPY_KIND, credential=tuple(wanted)):
            by_credential[str(entry.index.get("credential"))].append(_usage(entry))
        planner = self._planner(policy)
        return {c: planner.available(copies, tag or "-") for c, copies in by_credential.items()}

    def running_low(self, credential_id: str, policy: CopyPolicy) -> bool:
        """Whether fewer than ``low_water`` fresh copies of the credential are left."""
        return self._planner(policy).running_low(self._copies(credential_id))

    def take(
        self,
        credential_id: str,
        policy: CopyPolicy,
        tag: str | None,
        *,
        exclude: Collection[str] = (),
    ) -> HeldCopy:
        """The copy to present with (not yet consumed: see ``use``), other than ``exclude``.

        Raises:
            NotFound: no copy may be used any more (ask the issuer for a new batch).
        """
        choice = self._planner(policy).choose(self._copies(credential_id, exclude), tag or "-")
        chosen = choice.copy
        record = self._vault.get(COPY_KIND, chosen.id)
        if record is None or not isinstance(record.value, dict):
            raise WalletCorrupted("a credential copy is missing", record=f"{COPY_KIND}/{chosen.id}")
        wire, key = record.value.get("credential"), record.value.get("key")
        if not isinstance(wire, str) or not isinstance(key, str):
            raise WalletCorrupted(
                "a credential copy is malformed", record=f"{COPY_KIND}/{chosen.id}"
            )
        return HeldCopy(chosen.id, credential_id, wire, key, choice)

    def use(
        self, copies: Sequence[HeldCopy], policy: CopyPolicy, tag: str | None
    ) -> builtins.list[str]:
        """Record that ``copies`` were presented, as their ``choice`` says (one transaction):
        deleted with their keys (``once``, ARF WIAM_21), bound to the verifier
        (``per_verifier``), or counted (``per_verifier`` again, ``rotate``). Returns the
        credentials now running low."""
        low: builtins.list[str] = []
        with self._vault.transaction():
            for copy in copies:
                choice = copy.choice
                if choice is None or choice.delete:
                    self._vault.delete(COPY_KIND, copy.id)
                    self._vault.destroy_key(copy.key_id)
                    self._recount(copy.credential_id)
                else:
                    record = self._vault.get(COPY_KIND, copy.id)
                    if record is not None:
                        index = dict(record.entry.index)
                        index["uses"] = int(index.get("uses") or 0) + 1
                        # A monotonic stamp (the vault generation), not a clock time.
                        index["last_used"] = self._vault.generation
                        if choice.bind_to is not None:
                            index["verifier"] = choice.bind_to
                        self._vault.put(COPY_KIND, copy.id, record.value, index=index)
                if choice is not None and choice.running_low:
                    low.append(copy.credential_id)
        return list(dict.fromkeys(low))

    def withdraw(self, tag: str) -> builtins.list[str]:
        """Destroy every copy bound to the verifier ``tag`` (and its key): the person ends a
        standing ``per_verifier`` relationship. Returns the credentials that had one."""
        planner = UsagePlanner(UsagePolicy.PER_VERIFIER)
        touched: builtins.list[str] = []
        with self._vault.transaction():
            for entry in self._vault.find(COPY_KIND, verifier=tag):
                credential_id = str(entry.index.get("credential"))
                for copy in planner.withdraw([_usage(entry)], tag):
                    self._vault.delete(COPY_KIND, copy.id)
                    with contextlib.suppress(NotFound):
                        self._vault.destroy_key(copy.key_id)
                touched.append(credential_id)
            for credential_id in dict.fromkeys(touched):
                self._recount(credential_id)
        return list(dict.fromkeys(touched))

    def _recount(self, credential_id: str) -> None:
        record = self._vault.get(CREDENTIAL_KIND, credential_id)
        if record is not None:
            left = len(self._vault.find(COPY_KIND, credential=credential_id))
            self._write(credential_id, _value(record.value, credential_id), left)

    # -- deleting --------------------------------------------------------------------------

    def delete(self, credential_id: str) -> None:
        """Delete a credential with all its copies and their keys (one transaction).

        Raises:
            NotFound: no such credential.
        """
        with self._vault.transaction():
            if self._vault.get(CREDENTIAL_KIND, credential_id) is None:
                raise NotFound("no such credential in this wallet", credential_id=credential_id)
            for entry in self._vault.find(COPY_KIND, credential=credential_id):
                key = entry.index.get("key")
                self._vault.delete(COPY_KIND, entry.id)
                if isinstance(key, str):
                    with contextlib.suppress(NotFound):  # already destroyed
                        self._vault.destroy_key(key)
            self._vault.delete(CREDENTIAL_KIND, credential_id)


def _value(raw: Any, credential_id: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("claims"), dict):
        raise WalletCorrupted(
            "a credential record is malformed", record=f"{CREDENTIAL_KIND}/{credential_id}"
        )
    return raw


def _held(credential_id: str, value: Mapping[str, Any], copies: int) -> HeldCredential:
    valid_until = value.get("valid_until")
    names = value.get("names")
    return HeldCredential(
        id=credential_id,
        credential_type=str(value.get("credential_type")),
        format=str(value.get("format")),
        type_value=str(value.get("type_value")),
        issuer=str(value.get("issuer")),
        issuer_name=str(value.get("issuer_name")),
        trust=str(value.get("trust")),
        copies=copies,
        accepted_at=float(value.get("accepted_at") or 0.0),
        valid_until=valid_until if isinstance(valid_until, int) else None,
        names=dict(names) if isinstance(names, dict) else {},
        claims=value["claims"],
        authorities=parse_stored(value.get("authorities")),
    )
