"""Claims for many offers from a back-office export: JSON or CSV.

JSON: a list of claims objects, or ``{"claims": [...]}``. CSV (RFC 4180, UTF-8, optional
BOM): one row per person; a column name is a dotted claim path (``payer.name``,
``dependents.0.name``); an empty cell is an absent claim; a cell is converted to the type
the claims schema gives its path (integer, number, boolean), and object or array cells are
JSON text.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from honnin.encoding import json_loads
from honnin.errors import HonninError, MalformedInput, TooLarge

__all__ = ["MAX_CLAIMS_FILE", "read_claims_file"]

#: A payroll export of tens of thousands of people fits; anything larger is a mistake.
MAX_CLAIMS_FILE: Final = 64 * 1024 * 1024


def read_claims_file(
    path: str | os.PathLike[str], schema: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The claims sets in a JSON or CSV file (by extension; ``.csv`` is CSV).

    Raises:
        MalformedInput: unreadable content, naming the row and column.
        TooLarge: a file over ``MAX_CLAIMS_FILE``.
        OSError: the file cannot be read.
    """
    raw = Path(path).read_bytes()
    if len(raw) > MAX_CLAIMS_FILE:
        raise TooLarge(f"{path}: claims file over {MAX_CLAIMS_FILE} bytes", limit=MAX_CLAIMS_FILE)
    if str(path).lower().endswith(".csv"):
        return _read_csv(raw, schema, str(path))
    data = json_loads(raw)
    if isinstance(data, Mapping) and "claims" in data:
        data = data["claims"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise MalformedInput(f"{path}: expected a list of claims objects (or {{'claims': [...]}})")
    return [dict(item) for item in data]


def _schema_at(schema: Mapping[str, Any], path: list[str | int]) -> Mapping[str, Any]:
    node: Mapping[str, Any] = schema
    for segment in path:
        if isinstance(segment, int):
            items = node.get("items")
            node = items if isinstance(items, Mapping) else {}
        else:
            properties = node.get("properties")
            child = properties.get(segment) if isinstance(properties, Mapping) else None
            node = child if isinstance(child, Mapping) else {}
    return node


def _schema_type(node: Mapping[str, Any]) -> str | None:
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _convert(cell: str, kind: str | None) -> Any:
    if kind == "integer":
        return int(cell)
    if kind == "number":
        number = float(cell)
        return int(number) if number.is_integer() and "." not in cell else number
    if kind == "boolean":
        lowered = cell.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError("expected true or false")
        return lowered == "true"
    if kind in ("object", "array"):
        return json_loads(cell)
    return cell


def _put(target: dict[str, Any], path: list[str | int], value: Any) -> None:
    node: Any = target
    for position, segment in enumerate(path):
        last = position == len(path) - 1
        following = None if last else path[position + 1]
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(segment, int):
            if not isinstance(node, list):
                raise ValueError("an index where the claim is not an array")
            while len(node) <= segment:
                node.append({} if not isinstance(following, int) else [])
            if last:
                node[segment] = value
            node = node[segment]
        else:
            if not isinstance(node, dict):
                raise ValueError("a member name where the claim is not an object")
            if last:
                node[segment] = value
            node = node.setdefault(segment, empty)


def _read_csv(raw: bytes, schema: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedInput(f"{where}: CSV is not UTF-8") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise MalformedInput(f"{where}: empty CSV") from None
    except csv.Error as exc:
        raise MalformedInput(f"{where}: bad CSV header: {exc}") from exc
    paths: list[list[str | int]] = [
        [int(part) if part.isdigit() else part for part in name.strip().split(".")]
        for name in header
    ]
    if len({tuple(p) for p in paths}) != len(paths) or any("" in p for p in paths):
        raise MalformedInput(f"{where}: empty or repeated column names")
    kinds = [_schema_type(_schema_at(schema, path)) for path in paths]
    out: list[dict[str, Any]] = []
    try:
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise MalformedInput(
                    f"{where} row {row_number}: {len(row)} cells for {len(header)} columns",
                    row=row_number,
                )
            claims: dict[str, Any] = {}
            for column, (path, kind, cell) in enumerate(zip(paths, kinds, row, strict=True)):
                if cell == "":
                    continue
                try:
                    _put(claims, path, _convert(cell, kind))
                except (ValueError, HonninError) as exc:
                    raise MalformedInput(
                        f"{where} row {row_number} column {header[column]!r}: {exc}",
                        row=row_number,
                        column=header[column],
                    ) from exc
            out.append(claims)
    except csv.Error as exc:
        raise MalformedInput(f"{where}: bad CSV: {exc}") from exc
    return out
