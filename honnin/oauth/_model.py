"""The base of honnin's wire messages and the one way untrusted input becomes one.

Extra policy, one rule for every message class: when a message is **parsed**
(``parse_message``), unknown members are ignored, because every specification here tells the
receiver to ignore unrecognised parameters (RFC 6749 §5.1/§5.2, RFC 8414 §3.2, OpenID4VCI
§4.1.1, §6.1, §8.2, §11.1, §12.2.4, OpenID4VP §5, §8.1); when a message is **built** in code
(``CredentialOffer(...)``), an unknown member is forbidden and raises ``TypeError``, because
there it can only be a typo. Both directions use the same class, so the two sides of honnin
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from honnin.encoding import json_loads
from honnin.errors import HonninError, InvalidRequest, TooLarge

_PARSING = "honnin.parsing"
_TAGS = frozenset({"str", "int", "bool", "float", "none", "dict", "tuple", "list"})

M = TypeVar("M", bound="WireMessage")
# How a field holds a nested message: ("one" | "many" | "map", the message class).
_Shape = tuple[str, type["WireMessage"]]


class _BuildCheck(type(BaseModel)):  # type: ignore[misc]
    """Pydantic's model metaclass, checking the members of a message built in code.

    ``WireMessage(...)`` comes through ``__call__``; ``parse_message`` validates with
    ``model_validate`` and nested messages are validated without it, so the check costs a
    parse nothing. (As a model validator it ran once per nested message: 40 % of parsing a
    17 kB issuer metadata document. An ``__init__`` override would not do: pydantic calls a
    custom ``__init__`` for every nested message it validates.)
    """

    def __call__(cls, *args: Any, **data: Any) -> Any:
        _check_members(cls, data)
        return super().__call__(*args, **data)


if TYPE_CHECKING:  # type checkers see pydantic's own metaclass and its constructor signatures
    _MessageBase = BaseModel
else:

    class _MessageBase(BaseModel, metaclass=_BuildCheck):
        pass


class WireMessage(_MessageBase):
    """Base of every protocol message: frozen, spec field names (aliases where the spec's
    name is not a Python identifier), the extra policy described in the module docstring."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )
    _known_members: ClassVar[dict[type, dict[str, _Shape | None]]] = {}

    @classmethod
    def _members(cls) -> dict[str, _Shape | None]:
        """Each field under its Python name and its wire name (validation alias), with how
        it holds a nested message: worked out once per class, not on every build."""
        members = WireMessage._known_members.get(cls)
        if members is None:
            members = {}
            for name, info in cls.model_fields.items():
                shape = _nested_shape(info.annotation)
                members[name] = shape
                if isinstance(info.validation_alias, str):
                    members[info.validation_alias] = shape
            WireMessage._known_members[cls] = members
        return members

    def to_json(self) -> dict[str, Any]:
        """The message as a JSON-ready dict with wire names; absent members omitted."""
        out: dict[str, Any] = self.model_dump(mode="json", exclude_none=True, by_alias=True)
        return out


def _check_members(cls: type[WireMessage], data: Mapping[Any, Any]) -> None:
    """Raise ``TypeError`` for a member ``cls`` does not have, here or in a nested message
    given as a mapping (the build-time half of the extra policy, module docstring)."""
    members = cls._members()
    unknown = sorted(str(k) for k in data if k not in members)
    if unknown:
        raise TypeError(f"{cls.__name__} has no member(s) {unknown}")
    for key, value in data.items():
        shape = members[key]
        if shape is None:
            continue
        kind, nested = shape
        if kind == "one":
            values: Any = (value,)
        elif kind == "many":
            values = value if isinstance(value, list | tuple) else ()
        else:
            values = value.values() if isinstance(value, Mapping) else ()
        for item in values:
            if isinstance(item, Mapping):
                _check_members(nested, item)


def _nested_shape(annotation: Any) -> _Shape | None:
    """How a field holds a nested message: ``one``, ``many`` (tuple/list) or ``map`` (dict
    values); ``None`` when it holds none or more than one message class."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _nested_shape(args[0])
    if origin in (Union, UnionType):
        shapes = {_nested_shape(a) for a in args} - {None}
        return shapes.pop() if len(shapes) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, WireMessage):
        return ("one", annotation)
    if origin in (tuple, list) and args:
        item = _nested_shape(args[0])
        return ("many", item[1]) if item is not None and item[0] == "one" else None
    if origin is dict and len(args) == 2:
        item = _nested_shape(args[1])
        return ("map", item[1]) if item is not None and item[0] == "one" else None
    return None


def is_parsing(info: ValidationInfo) -> bool:
    """True while ``parse_message`` validates received input (lenient where the spec's own
    examples are), false while code builds a message (strict)."""
    return bool((info.context or {}).get(_PARSING))


def problem(message: str) -> PydanticCustomError:
    """A validation failure with ``message`` as its text (for model validators)."""
    return PydanticCustomError("honnin", message)


def too_large(message: str) -> PydanticCustomError:
    """A validation failure that ``parse_message`` turns into ``TooLarge``."""
    return PydanticCustomError("too_large", message)


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p in _TAGS or "[" in p))]
    return ".".join(parts)


def describe(exc: ValidationError, limit: int = 3) -> str:
    """A short, value-free description of a pydantic validation error."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    texts = []
    for error in errors[:limit]:
        where = _location(error["loc"])
        texts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(texts)


def parse_message(
    cls: type[M],
    data: Mapping[str, Any] | str | bytes,
    *,
    error: type[HonninError] = InvalidRequest,
    max_size: int | None = None,
) -> M:
    """Parse untrusted ``data`` (JSON text or an already decoded object) into ``cls``.

    Raises:
        ``error`` (``InvalidRequest`` unless the spec names another code): the message is
            not a JSON object or breaks its specification.
        TooLarge: over ``max_size`` bytes, or a count limit of the message.
        MalformedJson: not strict JSON.
    """
    if isinstance(data, str | bytes):
        data = json_loads(data, max_size=max_size)
    if not isinstance(data, Mapping):
        raise error(f"{cls.__name__}: not a JSON object")
    try:
        return cls.model_validate(data, context={_PARSING: True}, by_name=False)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        for item in errors:
            if item["type"] == "too_large":
                raise TooLarge(f"{cls.__name__}: {item['msg']}") from exc
        raise error(f"{cls.__name__}: {describe(exc)}") from exc


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    parts.port  # noqa: B018 - raises ValueError (a validation error here) for a bad port
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise problem("must be an absolute http(s) URL")
    return value


def _check_identifier(value: str) -> str:
    # OpenID4VCI §12.2.1 / RFC 8414 §2: scheme, host, optional port and path; no query or
    # fragment. The value is kept as sent: identifiers are compared as plain strings.
    parts = urlsplit(_check_http_url(value))
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise problem("an issuer identifier has no query or fragment")
    return value


#: An absolute http(s) URL, kept as the exact string sent (https is enforced by
#: ``require_https`` where policy requires it, so that loopback tests can use http).
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
#: An issuer identifier URL (OpenID4VCI §12.2.1, RFC 8414 §2).
IssuerIdentifier = Annotated[str, AfterValidator(_check_identifier)]
