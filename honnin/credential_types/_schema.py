"""Claims validation against a type's JSON Schema (draft 2020-12) with ``jsonschema``.

Messages name the failing claim path and the rule, never the value: a rejected value may be
a My Number, and error messages end up in logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import mul
from typing import Any, Final

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from honnin.errors import SchemaViolation

from ._fast import compile_schema
from ._paths import ClaimPath, render

__all__ = ["ClaimsValidator", "is_corporate_number", "is_individual_number"]

# Under partial validation (a presentation with undisclosed claims, SD-JWT VC §5.7) these
# rules may fail only because something was not disclosed.
_PARTIAL_SKIP: Final = frozenset({"required", "minProperties", "minItems"})


_MY_NUMBER_WEIGHTS: Final = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6)
_CORPORATE_WEIGHTS: Final = (1, 2) * 6


def is_individual_number(value: object) -> bool:
    """The check digit of a 12-digit Individual Number (My Number): MIC Ordinance No. 85 of
    2014 (個人番号の検査用数字を算出する算式, 番号法施行令第8条に基づく総務省令) art. 5."""
    if not isinstance(value, str):
        return True  # the type rule reports non-strings
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    # P_n is the n-th of the first 11 digits counted from the right; Q_n = n+1 for n <= 6,
    # n-5 for n >= 7; check = 11 - (sum P_n Q_n mod 11), or 0 when the remainder is <= 1.
    total = sum(map(mul, map(int, value[10::-1]), _MY_NUMBER_WEIGHTS))
    remainder = total % 11
    return int(value[11]) == (0 if remainder <= 1 else 11 - remainder)


def is_corporate_number(value: object) -> bool:
    """The leading check digit of a 13-digit Corporate Number (法人番号): MOF Ordinance
    No. 70 of 2014 (法人番号の指定等に関する省令) art. 2."""
    if not isinstance(value, str):
        return True
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        return False
    # P_n from the right of the last 12 digits; Q_n = 1 for odd n, 2 for even n;
    # check = 9 - (sum P_n Q_n mod 9).
    total = sum(map(mul, map(int, value[:0:-1]), _CORPORATE_WEIGHTS))
    return int(value[0]) == 9 - int(total) % 9


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=("date",))
    checker.checks("jp-individual-number")(is_individual_number)
    checker.checks("jp-corporate-number")(is_corporate_number)
    return checker


def _describe(error: ValidationError) -> tuple[ClaimPath, str]:
    path: ClaimPath = tuple(error.absolute_path)
    rule = str(error.validator)
    value: Any = error.validator_value
    if rule == "required" and isinstance(error.instance, dict):
        missing = [k for k in value if k not in error.instance]
        path = (*path, missing[0]) if missing else path
        return path, f"missing mandatory claim {render(path)}"
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        schema: Any = error.schema
        known = schema.get("properties", {})
        extra = sorted(k for k in error.instance if k not in known)
        path = (*path, extra[0]) if extra else path
        return path, f"unknown claim {render(path)}"
    if rule == "type":
        return path, f"{render(path)} must be of type {value}"
    if rule == "enum":
        return path, f"{render(path)} must be one of {list(value)}"
    if rule in ("format", "pattern"):
        return path, f"{render(path)} does not have the required format ({value})"
    return path, f"{render(path)} breaks the rule {rule} {value!r}"


class ClaimsValidator:
    """A compiled JSON Schema for one credential type."""

    __slots__ = ("_fast", "_fast_partial", "_type_id", "_validator")

    def __init__(self, type_id: str, schema: Mapping[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        formats = _format_checker()
        self._type_id = type_id
        self._validator = Draft202012Validator(schema, format_checker=formats)
        self._fast = compile_schema(schema, formats)
        self._fast_partial = compile_schema(schema, formats, partial=True)

    def validate(self, claims: object, *, partial: bool = False) -> None:
        """Raise ``SchemaViolation`` for the first failing rule (ordered by path)."""
        fast = self._fast_partial if partial else self._fast
        if fast is not None and fast(claims):
            return
        errors = []
        for error in self._validator.iter_errors(claims):
            if partial and error.validator in _PARTIAL_SKIP:
                continue
            errors.append(error)
        if not errors:
            return
        errors.sort(key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
        path, message = _describe(errors[0])
        raise SchemaViolation(
            f"{self._type_id}: {message}",
            credential_type=self._type_id,
            path=list(path),
            rule=str(errors[0].validator),
        )
