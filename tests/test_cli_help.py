"""Every ``honnin`` command and sub-command answers ``--help`` with its usage, exit status 0.

Commands are discovered from the parser the entry point builds (core commands plus the roles'
and the demo's ``honnin.commands`` entry points), so a new command is covered automatically;
``REQUIRED`` pins the ones the README and the issues promise.
"""

from __future__ import annotations

import argparse

import pytest

from honnin.cli import _parser, main

REQUIRED = {
    ("demo",),
    ("issuer", "serve"),
    ("issuer", "offer"),
    ("issuer", "revoke"),
    ("verifier", "serve"),
    ("verifier", "request"),
    ("verifier", "result"),
    ("wallet", "init"),
    ("wallet", "receive"),
    ("wallet", "list"),
    ("wallet", "present"),
    ("wallet", "delete"),
    ("sd-jwt", "decode"),
    ("sd-jwt", "issue"),
    ("sd-jwt", "present"),
    ("sd-jwt", "verify"),
    ("mdoc", "decode"),
    ("mdoc", "verify"),
    ("trust", "init"),
    ("trust", "show"),
    ("trust", "verify-chain"),
}


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], str | None]:
    """Every command path below ``parser`` with the help line its parent lists for it."""
    found: dict[tuple[str, ...], str | None] = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, child in action.choices.items():
            found[(*path, name)] = helps.get(name)
            found.update(_commands(child, (*path, name)))
    return found


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found[(*path, name)] = child
                found.update(_parsers(child, (*path, name)))
    return found


COMMANDS = _commands(_parser())
PARSERS = _parsers(_parser())
GROUPS = sorted(p for p in PARSERS if len(p) == 1 and any(q[:1] == p and q != p for q in PARSERS))


def test_every_promised_command_exists() -> None:
    assert set(COMMANDS) >= REQUIRED, sorted(REQUIRED - set(COMMANDS))


def test_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: honnin ")
    for (name,) in (path for path in COMMANDS if len(path) == 1):
        assert f"    {name}" in out, name


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().out.startswith("usage: honnin ")


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_help_of(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"usage: honnin {' '.join(path)}"), captured.out[:200]
    assert "options:" in captured.out and "-h, --help" in captured.out
    assert captured.err == ""
    # Listed with a one-line help in its parent's --help, so it can be discovered.
    assert COMMANDS[path], f"'honnin {' '.join(path)}' has no help line"


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_has_a_description_without_markup(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    description = PARSERS[path].description
    assert description and len(description.split()) >= 5, f"honnin {' '.join(path)}"
    with pytest.raises(SystemExit):
        main([*path, "--help"])
    out = capsys.readouterr().out
    # Help is read in a terminal: no reStructuredText / Markdown literals.
    assert "``" not in out and "`" not in out, out


@pytest.mark.parametrize("group", GROUPS, ids=" ".join)
def test_groups_list_their_commands_and_show_examples(
    group: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([*group, "--help"])
    out = capsys.readouterr().out
    assert "commands:" in out and "examples:" in out
    for path in COMMANDS:
        if len(path) == 2 and path[0] == group[0]:
            assert f"    {path[1]}" in out and COMMANDS[path] in " ".join(out.split()), path


def test_top_level_help_describes_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for (name,) in (path for path in COMMANDS if len(path) == 1):
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert len(line.split()) > 2, f"'{name}' has no description in 'honnin --help'"
