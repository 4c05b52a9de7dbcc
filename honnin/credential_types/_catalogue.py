"""The credential type catalogue: every type under ``spec/types/<id>/``.

Each type directory holds ``type-metadata.json`` (SD-JWT VC Type Metadata),
``claims.schema.json`` (JSON Schema 2020-12), ``mdoc.json`` (docType, namespaces, element
mapping) and ``sample.json``. The catalogue resolves ``vct`` values locally: honnin never
fetches type metadata from a ``vct`` URL (SD-JWT VC §5.3 lets the consumer choose).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from honnin.encoding import json_loads
from honnin.errors import MalformedInput, UnknownCredentialType

from ._type import CredentialType

__all__ = ["Catalogue", "load_catalogue", "spec_directory"]

_FILES = ("type-metadata.json", "claims.schema.json", "mdoc.json", "sample.json")
_MAX_FILE = 1024 * 1024


def spec_directory() -> Path:
    """Where the spec data is: ``honnin/_spec`` in an installed wheel (pyproject
    force-includes ``spec`` there), else the repository's ``spec/``."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_spec"
    return installed if installed.is_dir() else package.parent / "spec"


def _read(path: Path) -> tuple[bytes, Any]:
    raw = path.read_bytes()
    if len(raw) > _MAX_FILE:
        raise MalformedInput(f"{path}: larger than {_MAX_FILE} bytes")
    return raw, json_loads(raw)


class Catalogue:
    """The credential types, looked up by catalogue id, ``vct`` or mdoc docType."""

    def __init__(self, types: list[CredentialType]) -> None:
        self._by_id: dict[str, CredentialType] = {}
        self._by_vct: dict[str, CredentialType] = {}
        self._by_doctype: dict[str, CredentialType] = {}
        for t in types:
            for table, key in (
                (self._by_id, t.id),
                (self._by_vct, t.vct),
                (self._by_doctype, t.doctype),
            ):
                if key in table:
                    raise MalformedInput(f"credential type {key!r} is defined twice")
                table[key] = t

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Catalogue:
        """Load every type under ``directory/types/`` (or ``directory`` itself if it holds
        type folders).

        Raises:
            MalformedInput: a missing file or a malformed document.
        """
        root = Path(directory)
        types_dir = root / "types" if (root / "types").is_dir() else root
        types = []
        for folder in sorted(p for p in types_dir.iterdir() if p.is_dir()):
            missing = [f for f in _FILES if not (folder / f).is_file()]
            if missing:
                raise MalformedInput(f"credential type {folder.name}: missing {', '.join(missing)}")
            (meta_raw, metadata), (_, schema), (_, mdoc), (_, sample) = (
                _read(folder / f) for f in _FILES
            )
            for name, doc in (
                ("type metadata", metadata),
                ("schema", schema),
                ("mdoc", mdoc),
                ("sample", sample),
            ):
                if not isinstance(doc, dict):
                    raise MalformedInput(f"credential type {folder.name}: {name} is not an object")
            types.append(CredentialType(folder.name, meta_raw, metadata, schema, mdoc, sample))
        return cls(types)

    def get(self, type_id: str) -> CredentialType:
        """The type with catalogue id ``type_id`` (e.g. ``withholding-slip``).

        Raises:
            UnknownCredentialType: no such id.
        """
        try:
            return self._by_id[type_id]
        except KeyError:
            raise UnknownCredentialType(
                f"no credential type {type_id!r} in the catalogue", credential_type=type_id
            ) from None

    def by_vct(self, vct: str) -> CredentialType:
        """The type whose SD-JWT VC ``vct`` is ``vct`` (exact, case-sensitive: §2.2.2.1).

        Raises:
            UnknownCredentialType: no such vct.
        """
        try:
            return self._by_vct[vct]
        except KeyError:
            raise UnknownCredentialType(f"no credential type with vct {vct!r}", vct=vct) from None

    def by_doctype(self, doctype: str) -> CredentialType:
        """The type whose mdoc docType is ``doctype``.

        Raises:
            UnknownCredentialType: no such docType.
        """
        try:
            return self._by_doctype[doctype]
        except KeyError:
            raise UnknownCredentialType(
                f"no credential type with docType {doctype!r}", doctype=doctype
            ) from None

    def find(self, name: str) -> CredentialType | None:
        """The type named by id, vct or docType, or None."""
        return self._by_id.get(name) or self._by_vct.get(name) or self._by_doctype.get(name)

    def resolve(self, name: str) -> CredentialType:
        """Like ``find``, but raises.

        Raises:
            UnknownCredentialType: ``name`` is no id, vct or docType of the catalogue.
        """
        found = self.find(name)
        if found is None:
            raise UnknownCredentialType(f"unknown credential type {name!r}", credential_type=name)
        return found

    @property
    def ids(self) -> tuple[str, ...]:
        """The catalogue ids, sorted."""
        return tuple(sorted(self._by_id))

    def __iter__(self) -> Iterator[CredentialType]:
        return iter(self._by_id[i] for i in self.ids)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def __repr__(self) -> str:
        return f"Catalogue({', '.join(self.ids)})"


@cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with honnin (spec/types), loaded once per process.

    Example::

        slip = load_catalogue().get("withholding-slip")
        slip.name("en")   # 'Employment income withholding slip'
    """
    return Catalogue.load(spec_directory())
