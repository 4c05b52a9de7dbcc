"""DCQL query models (OpenID4VP 1.0 §6) and their parser.

Extra policy: every DCQL model ignores unknown properties, because §6 says "Implementations
MUST ignore any unknown properties" (future extensions add members at every level).

Direct construction (``DcqlQuery(credentials=...)``) is for code that builds a query; a bad
value there is a programmer mistake and raises pydantic's ``ValidationError`` (a
``ValueError``). Untrusted input goes through ``parse_dcql_query``, which turns every
problem into ``InvalidDcqlQuery`` or ``TooLarge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from honnin.encoding import b64url_decode, json_dumps, json_loads
from honnin.errors import InvalidDcqlQuery, MalformedBase64url, MalformedJson, TooLarge

from ._constants import (
    ID_PATTERN,
    MAX_CLAIM_SETS,
    MAX_CLAIMS_PER_QUERY,
    MAX_CREDENTIAL_QUERIES,
    MAX_CREDENTIAL_SETS,
    MAX_ID_LENGTH,
    MAX_OPTIONS,
    MAX_PATH_LENGTH,
    MAX_TRUSTED_AUTHORITIES,
    MAX_VALUES,
    CredentialFormat,
    TrustedAuthorityType,
)

#: A claims path pointer (OpenID4VP 1.0 §7): strings, nulls and non-negative integers.
ClaimsPath: TypeAlias = tuple[str | int | None, ...]
#: A value a Claims Query may require (§6.3 ``values``).
ClaimValue: TypeAlias = str | int | bool

_CONFIG = ConfigDict(frozen=True, extra="ignore")


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("dcql", message)


def _too_large(message: str) -> PydanticCustomError:
    return PydanticCustomError("too_large", message)


def _check_id(value: str, what: str) -> str:
    # §6.1 / §6.3: non-empty, alphanumeric, underscore or hyphen only.
    if len(value) > MAX_ID_LENGTH or ID_PATTERN.fullmatch(value) is None:
        raise _fail(f"{what} must consist of A-Z, a-z, 0-9, '_' or '-' (OpenID4VP §6.1)")
    return value


def _check_count(data: Any, key: str, limit: int) -> None:
    if isinstance(data, Mapping):
        value = data.get(key)
        if isinstance(value, list | tuple) and len(value) > limit:
            raise _too_large(f"'{key}' has {len(value)} entries; the limit is {limit}")


def check_claims_path(path: tuple[Any, ...] | list[Any]) -> ClaimsPath:
    """Check a claims path pointer's syntax (OpenID4VP 1.0 §7, §7.1.1 step 2.4).

    Raises:
        InvalidDcqlQuery: empty, too long, or a component that is not a string, null or a
            non-negative integer (booleans and floats included).
    """
    if not isinstance(path, list | tuple) or not path:
        raise InvalidDcqlQuery("a claims path pointer must be a non-empty array (OpenID4VP §7)")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidDcqlQuery(f"claims path longer than {MAX_PATH_LENGTH} components")
    for component in path:
        if component is None or isinstance(component, str):
            continue
        if isinstance(component, int) and not isinstance(component, bool) and component >= 0:
            continue
        # §7.1.1 step 2.4: anything else aborts processing with an error.
        raise InvalidDcqlQuery(
            "claims path components are strings, null or non-negative integers (OpenID4VP §7)",
            path=[c if isinstance(c, str | int | type(None)) else repr(c) for c in path],
        )
    return tuple(path)


class ClaimsQuery(BaseModel):
    """A Claims Query (OpenID4VP 1.0 §6.3; ``intent_to_retain`` for mdoc, App. B.2.4)."""

    model_config = _CONFIG

    id: StrictStr | None = None
    path: tuple[StrictStr | StrictInt | None, ...]
    values: tuple[StrictStr | StrictInt | StrictBool, ...] | None = None
    intent_to_retain: StrictBool | None = None

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: Any) -> Any:
        _check_count(data, "path", MAX_PATH_LENGTH)
        _check_count(data, "values", MAX_VALUES)
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return None if value is None else _check_id(value, "claim id")

    @field_validator("path")
    @classmethod
    def _path(cls, value: ClaimsPath) -> ClaimsPath:
        try:
            return check_claims_path(value)
        except InvalidDcqlQuery as exc:
            raise _fail(exc.message) from exc

    @field_validator("values")
    @classmethod
    def _values(cls, value: tuple[ClaimValue, ...] | None) -> tuple[ClaimValue, ...] | None:
        if value is not None and not value:
            raise _fail("'values' must be a non-empty array (OpenID4VP §6.3)")
        return value


class CredentialQueryMeta(BaseModel):
    """The ``meta`` object of a Credential Query (§6.1; App. B.2.3 and B.3.5)."""

    model_config = _CONFIG

    vct_values: tuple[StrictStr, ...] | None = None
    doctype_value: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: Any) -> Any:
        _check_count(data, "vct_values", MAX_VALUES)
        return data


class TrustedAuthoritiesQuery(BaseModel):
    """A Trusted Authorities Query (OpenID4VP 1.0 §6.1.1)."""

    model_config = _CONFIG

    type: StrictStr
    values: tuple[StrictStr, ...]

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: Any) -> Any:
        _check_count(data, "values", MAX_VALUES)
        return data

    @model_validator(mode="after")
    def _check(self) -> TrustedAuthoritiesQuery:
        if not self.values:
            raise _fail("trusted_authorities 'values' must be non-empty (OpenID4VP §6.1.1)")
        if self.type == TrustedAuthorityType.AKI:
            # §6.1.1: the KeyIdentifier, base64url-encoded; reject what cannot match.
            for value in self.values:
                try:
                    b64url_decode(value, what="aki value")
                except MalformedBase64url as exc:
                    raise _fail("an 'aki' value must be base64url (OpenID4VP §6.1.1)") from exc
        return self


class CredentialQuery(BaseModel):
    """A Credential Query (OpenID4VP 1.0 §6.1)."""

    model_config = _CONFIG

    id: StrictStr
    format: StrictStr
    meta: CredentialQueryMeta
    multiple: StrictBool = False
    trusted_authorities: tuple[TrustedAuthoritiesQuery, ...] | None = None
    require_cryptographic_holder_binding: StrictBool = True
    claims: tuple[ClaimsQuery, ...] | None = None
    claim_sets: tuple[tuple[StrictStr, ...], ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: Any) -> Any:
        _check_count(data, "claims", MAX_CLAIMS_PER_QUERY)
        _check_count(data, "claim_sets", MAX_CLAIM_SETS)
        _check_count(data, "trusted_authorities", MAX_TRUSTED_AUTHORITIES)
        if isinstance(data, Mapping) and isinstance(data.get("claim_sets"), list | tuple):
            for claim_set in data["claim_sets"]:
                if isinstance(claim_set, list | tuple) and len(claim_set) > MAX_CLAIMS_PER_QUERY:
                    raise _too_large(f"a claim set has more than {MAX_CLAIMS_PER_QUERY} ids")
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_id(value, "credential query id")

    @model_validator(mode="after")
    def _check(self) -> CredentialQuery:
        if not self.format:
            raise _fail("'format' must be a non-empty string (OpenID4VP §6.1)")
        if self.trusted_authorities is not None and not self.trusted_authorities:
            raise _fail("'trusted_authorities' must be non-empty when present (§6.1)")
        self._check_meta()
        self._check_claims()
        return self

    def _check_meta(self) -> None:
        if self.format == CredentialFormat.SD_JWT_VC:
            # App. B.3.5: vct_values is REQUIRED and a non-empty array of strings.
            if not self.meta.vct_values:
                raise _fail("dc+sd-jwt queries need a non-empty meta.vct_values (App. B.3.5)")
        elif self.format == CredentialFormat.MSO_MDOC and self.meta.doctype_value is None:
            # App. B.2.3: doctype_value is REQUIRED.
            raise _fail("mso_mdoc queries need meta.doctype_value (OpenID4VP App. B.2.3)")

    def _check_claims(self) -> None:
        if self.claims is None:
            if self.claim_sets is not None:
                # §6.4.1: claim_sets MUST NOT be present if claims is absent.
                raise _fail("'claim_sets' without 'claims' (OpenID4VP §6.4.1)")
            return
        if not self.claims:
            raise _fail("'claims' must be a non-empty array when present (OpenID4VP §6.1)")
        ids = [c.id for c in self.claims if c.id is not None]
        if len(ids) != len(set(ids)):
            raise _fail("claim ids must be unique within a credential query (§6.3)")
        if self.format == CredentialFormat.MSO_MDOC:
            for claim in self.claims:
                # §7.2.1 step 1: exactly [namespace, data element identifier].
                if len(claim.path) != 2 or not all(isinstance(c, str) for c in claim.path):
                    raise _fail("an mso_mdoc claims path is [namespace, element] (§7.2.1)")
        if self.claim_sets is None:
            return
        if not self.claim_sets or any(not s for s in self.claim_sets):
            raise _fail("'claim_sets' must be a non-empty array of non-empty arrays (§6.1)")
        if len(ids) != len(self.claims):
            # §6.3: id is REQUIRED if claim_sets is present.
            raise _fail("every claim needs an 'id' when 'claim_sets' is present (§6.3)")
        known = set(ids)
        for claim_set in self.claim_sets:
            unknown = [i for i in claim_set if i not in known]
            if unknown:
                raise _fail(f"claim_sets reference unknown claim ids {unknown}")

    def claim(self, claim_id: str) -> ClaimsQuery:
        """The claims query with ``claim_id`` (``KeyError`` if absent: a programmer error)."""
        for claim in self.claims or ():
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)


class CredentialSetQuery(BaseModel):
    """A Credential Set Query (OpenID4VP 1.0 §6.2).

    ``purpose`` is not in OpenID4VP 1.0 final (earlier drafts had it); it is kept, as
    information only, so that queries from verifiers on those drafts keep their text.
    """

    model_config = _CONFIG

    options: tuple[tuple[StrictStr, ...], ...]
    required: StrictBool = True
    purpose: StrictStr | StrictInt | StrictFloat | dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: Any) -> Any:
        _check_count(data, "options", MAX_OPTIONS)
        if isinstance(data, Mapping) and isinstance(data.get("options"), list | tuple):
            for option in data["options"]:
                if isinstance(option, list | tuple) and len(option) > MAX_CREDENTIAL_QUERIES:
                    raise _too_large(f"an option has more than {MAX_CREDENTIAL_QUERIES} ids")
        return data

    @model_validator(mode="after")
    def _check(self) -> CredentialSetQuery:
        if not self.options or any(not option for option in self.options):
            raise _fail("'options' must be a non-empty array of non-empty arrays (§6.2)")
        return self


class DcqlQuery(BaseModel):
    """A DCQL query (OpenID4VP 1.0 §6).

    >>> q = parse_dcql_query({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
    ...     "meta": {"vct_values": ["urn:example:pid"]}, "claims": [{"path": ["age"]}]}]})
    >>> q.credential("pid").claims[0].path
    ('age',)
    """

    model_config = _CONFIG

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: Any) -> Any:
        _check_count(data, "credentials", MAX_CREDENTIAL_QUERIES)
        _check_count(data, "credential_sets", MAX_CREDENTIAL_SETS)
        return data

    @model_validator(mode="after")
    def _check(self) -> DcqlQuery:
        if not self.credentials:
            raise _fail("'credentials' must be a non-empty array (OpenID4VP §6)")
        ids = [c.id for c in self.credentials]
        if len(ids) != len(set(ids)):
            # §6.1: the same id MUST NOT be present more than once.
            raise _fail("credential query ids must be unique (OpenID4VP §6.1)")
        if self.credential_sets is not None:
            if not self.credential_sets:
                raise _fail("'credential_sets' must be non-empty when present (OpenID4VP §6)")
            known = set(ids)
            for credential_set in self.credential_sets:
                for option in credential_set.options:
                    unknown = [i for i in option if i not in known]
                    if unknown:
                        raise _fail(f"credential_sets reference unknown credential ids {unknown}")
        return self

    def credential(self, query_id: str) -> CredentialQuery:
        """The credential query with ``query_id`` (``KeyError`` if absent)."""
        for query in self.credentials:
            if query.id == query_id:
                return query
        raise KeyError(query_id)

    def to_json(self) -> dict[str, Any]:
        """The query as a JSON-ready dict (absent optional members omitted)."""
        out: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return out


_TAGS = frozenset({"str", "int", "bool", "float", "none", "dict", "tuple", "list"})


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p in _TAGS or "[" in p))]
    return ".".join(parts) or "query"


def parse_dcql_query(data: Mapping[str, Any] | str | bytes) -> DcqlQuery:
    """Parse an untrusted DCQL query (a JSON object, or its JSON text).

    Raises:
        InvalidDcqlQuery: the query breaks OpenID4VP §6 (shape, ids, references, paths).
        TooLarge: more queries, claims, sets or values than the limits allow.
        MalformedJson: the text is not strict JSON (duplicate names, too deep, ...).
    """
    if isinstance(data, str | bytes):
        data = json_loads(data)
    if not isinstance(data, Mapping):
        raise InvalidDcqlQuery("a DCQL query is a JSON object (OpenID4VP §6)")
    try:
        return DcqlQuery.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        for error in errors:
            if error["type"] == "too_large":
                raise TooLarge(f"DCQL query: {error['msg']}") from exc
        detail = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors[:3])
        raise InvalidDcqlQuery(f"invalid DCQL query: {detail}") from exc
    except RecursionError as exc:  # pragma: no cover - json_loads bounds depth first
        raise MalformedJson("DCQL query nested too deeply") from exc


def dcql_query_json(query: DcqlQuery) -> str:
    """The query as compact JSON text (for the ``dcql_query`` URL parameter)."""
    return json_dumps(query.to_json())
