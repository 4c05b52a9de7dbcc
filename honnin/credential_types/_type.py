"""One credential type of the catalogue: SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc
§5), its claims schema, its mdoc mapping and a sample."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from honnin.errors import MalformedInput, SchemaViolation

from ._mdoc import MdocElement, MdocMapping
from ._paths import ClaimPath, expand, matches, render
from ._schema import ClaimsValidator

__all__ = ["ClaimMetadata", "CredentialType", "SdPolicy"]

SdPolicy = Literal["always", "allowed", "never"]
_SD_VALUES: Final = ("always", "allowed", "never")
#: honnin extension member of a claim metadata entry (unknown members are ignored by other
#: consumers, SD-JWT VC §5.2): "explicit_request" = released only when a request names it.
RELEASE_MEMBER: Final = "honnin_release"


@dataclass(frozen=True, slots=True)
class ClaimMetadata:
    """Claim metadata (SD-JWT VC §5.6): path, labels per locale, ``sd`` and ``mandatory``.

    ``explicit_request_only`` marks claims (the My Number) that a wallet releases only when a
    request names them explicitly (spec/PROFILE.md "The My Number rule").
    """

    path: ClaimPath
    labels: Mapping[str, str]
    sd: SdPolicy
    mandatory: bool
    explicit_request_only: bool = False
    descriptions: Mapping[str, str] | None = None

    def label(self, lang: str = "ja") -> str:
        """The label in ``lang`` (``ja``, ``en``, ``ja-JP``, ...), else the first one."""
        return _pick(self.labels, lang)


def _pick(texts: Mapping[str, str], lang: str) -> str:
    if lang in texts:
        return texts[lang]
    primary = lang.split("-", 1)[0].lower()
    for locale, text in texts.items():
        if locale.split("-", 1)[0].lower() == primary:
            return text
    return next(iter(texts.values()))


def _displays(entries: Any, where: str, text_member: str) -> tuple[dict[str, str], dict[str, str]]:
    if not isinstance(entries, list) or not entries:
        raise MalformedInput(f"{where}: display must be a non-empty array (SD-JWT VC §5.5)")
    texts, descriptions = {}, {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise MalformedInput(f"{where}: display entry is not an object")
        locale, text = entry.get("locale"), entry.get(text_member)
        if not isinstance(locale, str) or not isinstance(text, str):
            raise MalformedInput(f"{where}: display needs locale and {text_member}")
        texts[locale] = text
        if isinstance(entry.get("description"), str):
            descriptions[locale] = entry["description"]
    return texts, descriptions


def _claim(entry: Any, where: str) -> ClaimMetadata:
    if not isinstance(entry, Mapping):
        raise MalformedInput(f"{where}: not an object")
    path = entry.get("path")
    if (
        not isinstance(path, list)
        or not path
        or not all(p is None or isinstance(p, str) or (type(p) is int and p >= 0) for p in path)
    ):
        raise MalformedInput(f"{where}: path must be a non-empty claims path (SD-JWT VC §5.6.1)")
    sd = entry.get("sd", "allowed")
    if sd not in _SD_VALUES:
        raise MalformedInput(f"{where}: sd must be always, allowed or never (SD-JWT VC §5.6.3)")
    mandatory = entry.get("mandatory", False)
    if not isinstance(mandatory, bool):
        raise MalformedInput(f"{where}: mandatory must be a boolean")
    labels, descriptions = _displays(entry.get("display"), where, "label")
    release = entry.get(RELEASE_MEMBER)
    if release not in (None, "explicit_request"):
        raise MalformedInput(f"{where}: {RELEASE_MEMBER} must be explicit_request")
    return ClaimMetadata(
        tuple(path), labels, sd, mandatory, release == "explicit_request", descriptions or None
    )


class CredentialType:
    """A credential type: ``id``, ``vct``, mdoc ``doctype`` and ``namespaces``, claim
    metadata with ja/en labels, schema validation, SD policy and the mdoc mapping.

    Example::

        slip = load_catalogue().get("withholding-slip")
        slip.validate(claims)                      # SchemaViolation before anything is signed
        sd_paths = slip.disclosable_paths(claims)  # what to make selectively disclosable
        elements = slip.to_mdoc(claims)            # {namespace: {identifier: value}}
    """

    def __init__(
        self,
        type_id: str,
        metadata_bytes: bytes,
        metadata: Mapping[str, Any],
        schema: Mapping[str, Any],
        mdoc: Mapping[str, Any],
        sample: Mapping[str, Any],
    ) -> None:
        where = f"credential type {type_id}"
        vct = metadata.get("vct")
        if not isinstance(vct, str) or not vct:
            raise MalformedInput(f"{where}: type metadata needs vct (SD-JWT VC §5.2)")
        self.id = type_id
        self.vct: str = vct
        self.metadata_bytes = metadata_bytes
        self._metadata = metadata
        self._names, self._descriptions = _displays(metadata.get("display"), where, "name")
        raw_claims = metadata.get("claims")
        if not isinstance(raw_claims, list):
            raise MalformedInput(f"{where}: type metadata needs claims")
        self.claims: tuple[ClaimMetadata, ...] = tuple(
            _claim(c, f"{where} claims[{i}]") for i, c in enumerate(raw_claims)
        )
        self._by_path = {c.path: c for c in self.claims}
        if len(self._by_path) != len(self.claims):
            raise MalformedInput(f"{where}: a claim path is listed twice (SD-JWT VC §5.6)")
        self._schema = schema
        try:
            self._validator = ClaimsValidator(type_id, schema)
        except Exception as exc:  # jsonschema.SchemaError and friends: a broken catalogue
            raise MalformedInput(f"{where}: invalid claims schema: {exc}") from exc
        self.mdoc = MdocMapping(mdoc, schema, where)
        self._sample = sample
        self._disclosable = [c.path for c in self.claims if c.sd != "never"]
        self.never_disclosable: frozenset[ClaimPath] = frozenset(
            c.path for c in self.claims if c.sd == "never"
        )
        self.always_disclosable: frozenset[ClaimPath] = frozenset(
            c.path for c in self.claims if c.sd == "always"
        )
        self.explicit_request_only: frozenset[ClaimPath] = frozenset(
            c.path for c in self.claims if c.explicit_request_only
        )

    # -- identity -----------------------------------------------------------------------------

    @property
    def doctype(self) -> str:
        """The mdoc docType (ISO/IEC 18013-5 §8.3.2.1.2.2)."""
        return self.mdoc.doctype

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The mdoc namespaces, the main one (equal to the docType) first."""
        return self.mdoc.namespaces

    @property
    def vct_integrity(self) -> str:
        """``vct#integrity`` for the type metadata file (SD-JWT VC §6, W3C SRI sha256)."""
        digest = hashlib.sha256(self.metadata_bytes).digest()
        return "sha256-" + base64.b64encode(digest).decode("ascii")

    def name(self, lang: str = "ja") -> str:
        """The display name in ``lang`` (SD-JWT VC §5.5)."""
        return _pick(self._names, lang)

    def description(self, lang: str = "ja") -> str:
        """The display description in ``lang``."""
        return _pick(self._descriptions, lang) if self._descriptions else ""

    def type_metadata(self) -> dict[str, Any]:
        """A copy of the SD-JWT VC Type Metadata document."""
        return copy.deepcopy(dict(self._metadata))

    def claims_schema(self) -> dict[str, Any]:
        """A copy of the claims JSON Schema."""
        return copy.deepcopy(dict(self._schema))

    def sample_claims(self) -> dict[str, Any]:
        """A fresh copy of the realistic sample claims in spec/ (valid for this type)."""
        return copy.deepcopy(dict(self._sample))

    # -- claims -------------------------------------------------------------------------------

    def claim(self, path: Sequence[str | int | None]) -> ClaimMetadata | None:
        """The metadata entry for ``path`` (concrete indices match ``None`` entries)."""
        key = tuple(path)
        hit = self._by_path.get(key)
        if hit is not None:
            return hit
        for entry in self.claims:
            if matches(entry.path, key):
                return entry
        return None

    def label(self, path: Sequence[str | int | None], lang: str = "ja") -> str:
        """The display label of the claim at ``path`` in ``lang`` (``ja`` or ``en``).

        Raises:
            SchemaViolation: the type has no claim at ``path``.
        """
        entry = self.claim(path)
        if entry is None:
            raise SchemaViolation(
                f"{self.id}: no claim {render(tuple(path))}",
                credential_type=self.id,
                path=list(path),
                rule="unknown_claim",
            )
        return entry.label(lang)

    def validate(self, claims: object, *, partial: bool = False) -> None:
        """Validate ``claims`` against the type's JSON Schema. Issuers call this before
        signing; ``partial=True`` (verifiers) tolerates claims left undisclosed (SD-JWT VC
        §5.7: an undisclosed SD claim is not "mandatory missing").

        Raises:
            SchemaViolation: names the failing claim ``path`` and the ``rule``.
        """
        self._validator.validate(claims, partial=partial)

    def disclosable_paths(self, claims: Mapping[str, Any]) -> list[ClaimPath]:
        """The concrete paths in ``claims`` to issue as selectively disclosable: every claim
        whose metadata says ``sd`` always or allowed (SD-JWT VC §5.6.3); ``never`` stays in
        plaintext. Parents come before their children."""
        out: list[ClaimPath] = []
        for pattern in self._disclosable:
            if len(pattern) == 1:
                if pattern[0] in claims:
                    out.append(pattern)
            elif len(pattern) == 2 and isinstance(pattern[1], str):
                parent = claims.get(pattern[0])  # type: ignore[arg-type]
                if isinstance(parent, dict) and pattern[1] in parent:
                    out.append(pattern)
            else:
                out.extend(path for path, _ in expand(pattern, claims))
        return out

    def check_disclosure(
        self, plaintext: Sequence[Sequence[str | int]], disclosed: Sequence[Sequence[str | int]]
    ) -> None:
        """Check an issued credential's SD policy (SD-JWT VC §5.6.3): no ``always`` claim in
        ``plaintext``, no ``never`` claim among ``disclosed`` (selectively disclosable).

        Raises:
            SchemaViolation: naming the offending path.
        """
        for path in plaintext:
            entry = self.claim(path)
            if entry is not None and entry.sd == "always":
                raise SchemaViolation(
                    f"{self.id}: {render(tuple(path))} must be selectively disclosable",
                    credential_type=self.id,
                    path=list(path),
                    rule="sd",
                )
        for path in disclosed:
            entry = self.claim(path)
            if entry is not None and entry.sd == "never":
                raise SchemaViolation(
                    f"{self.id}: {render(tuple(path))} must not be selectively disclosable",
                    credential_type=self.id,
                    path=list(path),
                    rule="sd",
                )

    # -- mdoc ---------------------------------------------------------------------------------

    def to_mdoc(self, claims: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The claims as mdoc data elements ``{namespace: {identifier: value}}``.

        Raises:
            SchemaViolation: a claim has no data element, or a date is not a full-date.
        """
        return self.mdoc.to_mdoc(claims, self.id)

    def from_mdoc(self, namespaces: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """Data elements ``{namespace: {identifier: value}}`` back to JSON claims.

        Raises:
            SchemaViolation: an unknown element, or a value with no JSON form.
        """
        return self.mdoc.from_mdoc(namespaces, self.id)

    def mdoc_elements_for(self, path: Sequence[str | int | None]) -> list[MdocElement]:
        """The data elements that answer a request for the claim at ``path``."""
        return self.mdoc.elements_for(path)

    def __repr__(self) -> str:
        return f"CredentialType(id={self.id!r}, vct={self.vct!r}, doctype={self.doctype!r})"
