"""The README: its two commands come first, its first code is the happy-path test's code,
and (with ``HONNIN_README_TEST=1``) its first command works in a fresh virtual environment.

The fresh-venv test builds and installs the package from this checkout with pip (which may
need PyPI for the build backend and the dependencies), so it runs only when asked: CI sets
``HONNIN_README_TEST=1``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FIRST_COMMAND = "python3 -m venv .venv && . .venv/bin/activate && pip install . && honnin demo"
SECOND_COMMAND = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install '.[test]' && python -m pytest"
)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def _statements(body: list[ast.stmt]) -> tuple[set[str], list[str]]:
    """The imports (as a set: their place may differ) and the other statements in order."""
    imports = {ast.dump(s) for s in body if isinstance(s, ast.Import | ast.ImportFrom)}
    others = [ast.dump(s) for s in body if not isinstance(s, ast.Import | ast.ImportFrom)]
    return imports, others


def _housekeeping(statement: ast.stmt) -> bool:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    func = statement.value.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return False
    return func.value.id == "monkeypatch" or func.attr == "close"


def test_the_two_commands_come_first() -> None:
    first = _blocks("bash")[0].splitlines()
    assert first == [FIRST_COMMAND, SECOND_COMMAND]
    assert README.index(FIRST_COMMAND) < README.index("```python")


def test_the_first_python_block_is_the_happy_path_test() -> None:
    readme_code = ast.parse(_blocks("python")[0])
    test_module = ast.parse((ROOT / "tests" / "test_readme_happy_path.py").read_text("utf-8"))
    function = next(
        node
        for node in test_module.body
        if isinstance(node, ast.FunctionDef) and node.name == "test_the_happy_path_runs_as_written"
    )
    # The test's own set-up (monkeypatch.chdir), checks and clean-up are not README code.
    body = [s for s in function.body if not isinstance(s, ast.Assert) and not _housekeeping(s)]
    module_imports = [
        s
        for s in test_module.body
        if isinstance(s, ast.ImportFrom) and s.module == "honnin.credential_types"
    ]
    assert _statements(readme_code.body) == _statements([*module_imports, *body])


@pytest.mark.skipif(
    os.environ.get("HONNIN_README_TEST") != "1",
    reason="installs the package into a fresh venv (needs PyPI): set HONNIN_README_TEST=1",
)
def test_the_first_command_in_a_fresh_venv(tmp_path: Path) -> None:
    # Exactly the README's first command, with the demo asked for JSON to check its outcome.
    environment = tmp_path / ".venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stderr[-4000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{environment / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    demo = subprocess.run(
        ["honnin", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert demo.returncode == 0, demo.stderr[-4000:]
    report = json.loads(demo.stdout)
    assert report["verified"] is True, report["errors"]
    assert "my_number" in report["withheld"]
    # The installed package is the one from the fresh venv, not this checkout.
    where = subprocess.run(
        [str(python), "-c", "import honnin_demo; print(honnin_demo.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert str(environment) in where.stdout
    assert sys.prefix != str(environment)
