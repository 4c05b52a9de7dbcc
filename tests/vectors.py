"""The one loader for ../shared/vectors (CONVENTIONS 13).

Vectors live beside the repository (``../shared/vectors``), or where ``HONNIN_VECTORS``
points. A vector that a test cannot use is listed in ``SKIPPED`` with its reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def vectors_dir() -> Path:
    env = os.environ.get("HONNIN_VECTORS")
    path = Path(env) if env else ROOT.parent / "shared" / "vectors"
    if not path.is_dir():
        raise FileNotFoundError(
            f"test vectors not found at {path}; set HONNIN_VECTORS to the shared/vectors folder"
        )
    return path


def vector_path(*parts: str) -> Path:
    return vectors_dir().joinpath(*parts)


def load_json(*parts: str) -> Any:
    return json.loads(vector_path(*parts).read_text(encoding="utf-8"))


def load_text(*parts: str) -> str:
    return vector_path(*parts).read_text(encoding="utf-8").strip()


#: Vectors deliberately not used, with the reason (kept in one place, printed by the suite).
SKIPPED: dict[str, str] = {
    "mdoc/iso18013-5-annex-d.json session_establishment, session_data, session_termination,"
    " ephemeral_device_key_d": (
        "ISO 18013-5 §9.1.1 session encryption (proximity transport) is out of honnin's scope:"
        " mdocs travel over OpenID4VP"
    ),
}
