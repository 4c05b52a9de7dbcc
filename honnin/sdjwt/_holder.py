"""The holder's side (RFC 9901 §7.2): an issued SD-JWT, parsed once, presented many times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from honnin.clock import Clock
from honnin.encoding import b64url_encode
from honnin.errors import InvalidDisclosure, InvalidKeyBinding
from honnin.jose import (
    DEFAULT_ALLOWED,
    JwsAlgorithm,
    PublicKey,
)

from ._constants import (
    CLOCK_SKEW_SECONDS,
    DEFAULT_HASH_ALGORITHMS,
    SD_ALG,
    HashAlgorithm,
    hash_algorithm_from_payload,
)
from ._disclosure import Disclosure, decode_all
from ._key_binding import HolderKey, build_kb_jwt, holder_algorithm, holder_public_jwk
from ._paths import ClaimPath
from ._process import Placement, disclosures_of, process_payload
from ._selection import DisclosureSelector
from ._serialization import (
    JsonSignature,
    SdJwtParts,
    Serialization,
    build_compact,
    build_json,
    split_sd_jwt,
)
from ._verify import (
    IssuerKeyResolver,
    OpenedSdJwt,
    check_time_claims,
    open_sd_jwt,
    resolve_now,
)

#: A KB-JWT to sign: the holder key, nonce, aud, iat and extra claims.
_KbRequest: TypeAlias = tuple[HolderKey, str, str, int, Mapping[str, Any] | None]


class SdJwt:
    """An issued SD-JWT held by its holder: parsed and digested once, presented many times.

    Get one with ``receive_sd_jwt`` (verifies the issuer signature, RFC 9901 §7.2) or,
    for a credential that was verified when it was stored, ``SdJwt.parse``.
    """

    __slots__ = (
        "_by_digest",
        "_checked_key",
        "_encoded",
        "_kb_alg",
        "_parents",
        "_parts",
        "_prefix_hash",
        "_selector",
        "claims",
        "disclosures",
        "hash_alg",
        "header",
        "payload",
    )

    def __init__(
        self,
        parts: SdJwtParts,
        header: Mapping[str, Any],
        payload: dict[str, Any],
        claims: dict[str, Any],
        placements: Sequence[Placement],
        hash_alg: HashAlgorithm,
    ) -> None:
        if parts.kb_jwt is not None:
            # RFC 9901 §7.2: a holder rejects an SD-JWT+KB received from an issuer.
            raise InvalidKeyBinding("an issued SD-JWT must not carry a KB-JWT", reason="forbidden")
        self._parts = parts
        #: The issuer JWT's protected header and its signed payload (with digests).
        self.header = header
        self.payload = payload
        #: The processed claims with every disclosure applied.
        self.claims = claims
        self.disclosures = disclosures_of(placements)
        self.hash_alg = hash_alg
        self._parents = tuple(parent for _, _, parent in placements)
        self._by_digest = {d.digest: i for i, d in enumerate(self.disclosures)}
        self._encoded = tuple(d.encoded for d in self.disclosures)
        self._selector: DisclosureSelector | None = None
        self._prefix_hash: Any = None
        self._checked_key: HolderKey | None = None
        self._kb_alg: JwsAlgorithm | None = None

    @classmethod
    def _from_opened(cls, opened: OpenedSdJwt) -> SdJwt:
        return cls(
            opened.parts,
            opened.header,
            opened.payload,
            opened.claims,
            opened.placements,
            opened.hash_alg,
        )

    @classmethod
    def parse(
        cls, text: str, *, hash_algorithms: frozenset[HashAlgorithm] = DEFAULT_HASH_ALGORITHMS
    ) -> SdJwt:
        """Parse a stored issued SD-JWT without checking the issuer signature again.

        Runs every structural check of RFC 9901 §7.1 steps 3 to 5. Use ``receive_sd_jwt``
        for anything that was not verified when it was stored.
        """
        parts = split_sd_jwt(text)
        jws = parts.signatures[0]
        payload = jws.unverified_claims()
        hash_alg = hash_algorithm_from_payload(payload.get(SD_ALG), hash_algorithms)
        decoded = decode_all(parts.disclosures, hash_alg)
        claims, placements = process_payload(payload, decoded)
        return cls(parts, jws.header, payload, claims, placements, hash_alg)

    def __repr__(self) -> str:  # claim values and salts stay out of logs
        return (
            f"SdJwt(issuer_alg={self.header.get('alg')!r}, typ={self.header.get('typ')!r}, "
            f"disclosures={len(self.disclosures)})"
        )

    @property
    def serialization(self) -> Serialization:
        """The serialization the credential was issued in."""
        return self._parts.serialization

    @property
    def issuer_jwt(self) -> str:
        """The compact issuer-signed JWT (the first signature of a general JSON form)."""
        return self._parts.issuer_jwt

    def serialize(self) -> str:
        """The issued SD-JWT with all its disclosures, as it was issued."""
        return self._render_encoded(list(self._parts.disclosures), None, self.serialization)

    def _select(self, paths: Iterable[ClaimPath | str]) -> set[int]:
        if self._selector is None:
            self._selector = DisclosureSelector(self.claims, [d.path for d in self.disclosures])
        return self._selector.select(paths)

    def select(self, paths: Iterable[ClaimPath | str]) -> tuple[Disclosure, ...]:
        """The disclosures that presenting ``paths`` releases, and no others.

        A path releases the claim at that path with everything under it, plus the
        disclosures of its enclosing claims (recursive disclosures, RFC 9901 §4.2.6).
        ``None`` in a path stands for every element of an array.

        Raises:
            NoMatchingCredential: a path names a claim this credential does not have.
        """
        return tuple(self.disclosures[i] for i in sorted(self._select(paths)))

    def present(
        self,
        paths: Iterable[ClaimPath | str] = (),
        *,
        holder_key: HolderKey | None = None,
        nonce: str | None = None,
        aud: str | None = None,
        iat: int | None = None,
        clock: Clock | None = None,
        kb_claims: Mapping[str, Any] | None = None,
        serialization: Serialization | None = None,
    ) -> str:
        """Present the claims at ``paths`` (see ``select``), with a KB-JWT if ``holder_key``.

        The KB-JWT (RFC 9901 §4.3) carries ``nonce``, ``aud``, ``iat`` (default: the
        clock's time) and ``sd_hash``, plus ``kb_claims`` (e.g. OpenID4VP
        ``transaction_data_hashes``). ``serialization`` defaults to the issued one.

        Raises:
            NoMatchingCredential: a path names a claim this credential does not have.
            ValueError: ``holder_key`` without ``nonce``/``aud``, or not the ``cnf`` key.
        """
        return self._render(
            sorted(self._select(paths)),
            self._kb(holder_key, nonce, aud, iat, clock, kb_claims),
            serialization or self.serialization,
        )

    def present_disclosures(
        self,
        disclosures: Iterable[Disclosure],
        *,
        holder_key: HolderKey | None = None,
        nonce: str | None = None,
        aud: str | None = None,
        iat: int | None = None,
        clock: Clock | None = None,
        kb_claims: Mapping[str, Any] | None = None,
        serialization: Serialization | None = None,
    ) -> str:
        """Present exactly ``disclosures`` (each must belong to this credential).

        Raises:
            InvalidDisclosure: a disclosure not issued in this credential, or one whose
                enclosing disclosure is not presented too (RFC 9901 §7.2).
        """
        chosen: set[int] = set()
        for disclosure in disclosures:
            index = self._by_digest.get(disclosure.digest)
            if index is None:
                raise InvalidDisclosure("not a disclosure of this credential", reason="foreign")
            chosen.add(index)
        for index in chosen:
            parent = self._parents[index]
            if parent >= 0 and parent not in chosen:
                raise InvalidDisclosure(
                    "a disclosure is presented without the disclosure that contains it",
                    reason="unreferenced",
                )
        return self._render(
            sorted(chosen),
            self._kb(holder_key, nonce, aud, iat, clock, kb_claims),
            serialization or self.serialization,
        )

    def _kb(
        self,
        holder_key: HolderKey | None,
        nonce: str | None,
        aud: str | None,
        iat: int | None,
        clock: Clock | None,
        kb_claims: Mapping[str, Any] | None,
    ) -> _KbRequest | None:
        if holder_key is None:
            return None
        if nonce is None or aud is None:
            raise ValueError("a KB-JWT needs the verifier's nonce and aud")
        if self._checked_key is not holder_key:
            cnf = self.claims.get("cnf")
            jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
            mine = holder_public_jwk(holder_key)
            members = ("kty", "crv", "x", "y")
            if not isinstance(jwk, dict) or any(jwk.get(k) != mine.get(k) for k in members):
                raise ValueError("holder_key is not the key in the credential's 'cnf.jwk'")
            self._checked_key = holder_key
            self._kb_alg = holder_algorithm(holder_key)
        when = int(resolve_now(clock, None)) if iat is None else iat
        return holder_key, nonce, aud, when, kb_claims

    def _sd_hash(self, hash_input: str) -> str:
        """``sd_hash`` of ``hash_input`` (RFC 9901 §4.3.1), which starts with ``<issuer JWT>~``:
        the hash state after that constant prefix is kept, so a presentation hashes only
        its disclosures."""
        prefix = len(self._parts.issuer_jwt) + 1
        state = self._prefix_hash
        if state is None:
            state = self._prefix_hash = self.hash_alg.new(hash_input[:prefix].encode("ascii"))
        hasher = state.copy()
        hasher.update(hash_input[prefix:].encode("ascii"))
        return b64url_encode(hasher.digest())

    def _render(
        self,
        indices: Iterable[int],
        kb: _KbRequest | None,
        serialization: Serialization,
    ) -> str:
        encoded = self._encoded
        return self._render_encoded([*map(encoded.__getitem__, indices)], kb, serialization)

    def _render_encoded(
        self,
        encoded: list[str],
        kb: _KbRequest | None,
        serialization: Serialization,
    ) -> str:
        parts = self._parts
        hash_input = build_compact(parts.issuer_jwt, encoded)
        kb_jwt = None
        if kb is not None:
            key, nonce, aud, iat, extra = kb
            kb_jwt = build_kb_jwt(
                hash_input,
                self.hash_alg,
                key,
                nonce=nonce,
                aud=aud,
                iat=iat,
                alg=self._kb_alg,
                extra_claims=extra,
                digest=self._sd_hash(hash_input),
            )
        if serialization is Serialization.COMPACT:
            return hash_input + (kb_jwt or "")
        signatures = parts.json_signatures
        body = parts.issuer_jwt.split(".")[1]
        if not signatures:
            protected, _, signature = parts.issuer_jwt.split(".")
            signatures = (JsonSignature(protected, signature, {}),)
        return build_json(serialization, body, signatures, encoded, kb_jwt)


def receive_sd_jwt(
    text: str,
    issuer_key: PublicKey | IssuerKeyResolver,
    *,
    algorithms: frozenset[JwsAlgorithm] = DEFAULT_ALLOWED,
    hash_algorithms: frozenset[HashAlgorithm] = DEFAULT_HASH_ALGORITHMS,
    clock: Clock | None = None,
    now: float | None = None,
    clock_skew: float = CLOCK_SKEW_SECONDS,
) -> SdJwt:
    """Receive an issued SD-JWT as its holder: RFC 9901 §7.2 (all §7.1 checks, no KB-JWT).

    Raises:
        the errors of ``verify_sd_jwt``; ``InvalidKeyBinding`` (``reason="forbidden"``)
        when the issuer sent an SD-JWT+KB.
    """
    parts = split_sd_jwt(text)
    if parts.kb_jwt is not None:
        raise InvalidKeyBinding("an issued SD-JWT must not carry a KB-JWT", reason="forbidden")
    opened = open_sd_jwt(parts, issuer_key, algorithms=algorithms, hash_algorithms=hash_algorithms)
    check_time_claims(opened.claims, resolve_now(clock, now), clock_skew)
    return SdJwt._from_opened(opened)
