"""The rules every ``honnin`` command follows (docs/CLI.md): options after the command name
(the wallet's also before it), ``--json`` as one JSON document on stdout, failures as
``error: <code>: <message>`` on stderr with nothing on stdout, and ``--trust-list FILE`` /
``--trust-anchor PEM`` meaning the same wherever something is verified."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from honnin.cli import _parser, main
from honnin.credential_types import load_catalogue
from honnin.encoding import b64url_encode
from honnin.jose import generate_key, jwk_from_private_key, jwk_from_public_key
from honnin.mdoc import issue_mdoc
from honnin.trust import make_test_pki

PIN = "246810"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    argv = ["trust", "init", str(directory), "--issuer", "Example Corp"]
    assert main([*argv, "--types", "withholding-slip"]) == 0
    return directory


@pytest.fixture
def wallet_file(tmp_path: Path, run: Run) -> Path:
    path = tmp_path / "alice.wallet"
    code, out, err = run("wallet", "init", "--wallet", str(path), "--pin", PIN,
                         "--insecure-test-kdf", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["wallet"] == str(path)
    return path


# -- options after the command name ---------------------------------------------------------


def test_wallet_options_go_after_the_command(wallet_file: Path, run: Run) -> None:
    code, out, err = run("wallet", "list", "--wallet", str(wallet_file), "--pin", PIN, "--json")
    assert code == 0, err
    assert json.loads(out) == []


def test_wallet_options_are_still_accepted_before_the_command(wallet_file: Path, run: Run) -> None:
    assert run("wallet", "--wallet", str(wallet_file), "--pin", PIN, "list")[0] == 0
    # Split across both places: what was given before is kept.
    assert run("wallet", "--wallet", str(wallet_file), "list", "--pin", PIN)[0] == 0
    # Given in both places: the one after the command name wins.
    code, _, err = run("wallet", "--wallet", "nowhere", "list", "--wallet", str(wallet_file),
                       "--pin", PIN)  # fmt: skip
    assert code == 0, err


@pytest.mark.parametrize("flag", ["--dev", "--allow-loopback-http"])
def test_dev_is_the_wallet_development_flag_and_the_old_name_stays(flag: str) -> None:
    after = _parser().parse_args(["wallet", "list", flag])
    before = _parser().parse_args(["wallet", flag, "list"])
    assert after.dev is True and before.dev is True
    assert _parser().parse_args(["wallet", "list"]).dev is False


@pytest.mark.parametrize(
    "argv",
    [
        ["issuer", "serve", "--dev", "--config", "i.toml", "--log-level", "debug"],
        ["issuer", "revoke", "BATCH", "--dev", "--json"],
        ["verifier", "serve", "--dev", "--config", "v.toml", "--no-access-log"],
        ["verifier", "result", "TX", "--server", "http://127.0.0.1:1", "--json"],
    ],
    ids=" ".join,
)
def test_role_options_go_after_the_command(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    assert getattr(args, "json", True) and getattr(args, "dev", True)


@pytest.mark.parametrize("role", ["issuer", "verifier"])
def test_both_services_take_log_level_access_log_and_dev(role: str) -> None:
    args = _parser().parse_args([role, "serve", "--dev", "--log-level", "warning",
                                 "--no-access-log"])  # fmt: skip
    assert (args.dev, args.log_level, args.no_access_log) == (True, "warning", True)
    defaults = _parser().parse_args([role, "serve"])
    assert (defaults.dev, defaults.log_level, defaults.no_access_log) == (False, None, False)


def test_verifier_dev_mode_stays_on_loopback(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("verifier", "serve", "--dev", "--host", "0.0.0.0")
    assert code == 1 and "error: insecure_settings: " in err and "loopback" in err


# -- --json and errors -----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("argv", "code_word"),
    [
        (["trust", "verify-chain", "missing.pem", "--trust-list", "missing.json"], "io_error"),
        (["issuer", "revoke", "--dev", "no-such-batch"], "not_found"),
        (["issuer", "approve", "--dev", "no-such-offer"], "not_pending"),
        (["wallet", "list", "--wallet", "no.wallet", "--pin", PIN], "failed"),
        (["verifier", "result", "TX", "--server", "http://127.0.0.1:{port}"], "unreachable"),
        (["sd-jwt", "verify", "missing.txt", "--issuer-key", "k.jwk"], "io_error"),
    ],
    ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else v,
)
def test_failures_print_one_error_line_and_nothing_on_stdout(
    argv: list[str], code_word: str, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [a.format(port=_closed_port()) for a in argv]
    for json_flag in ([], ["--json"]):
        code, out, err = run(*argv, *json_flag)
        assert code == 1 and out == ""
        last = err.strip().splitlines()[-1]
        assert last.startswith(f"error: {code_word}: ") and len(last) > len(code_word) + 9


def test_usage_errors_exit_2(run: Run, pki_dir: Path) -> None:
    trust_list = str(pki_dir / "trust-list.json")
    leaf = str(pki_dir / "issuer-example-corp.pem")
    code, out, err = run("trust", "verify-chain", leaf, "--trust-list", trust_list,
                         "--trust-anchor", str(pki_dir / "root.pem"), "--json")  # fmt: skip
    assert (code, out) == (2, "") and err.startswith("error: usage: ") and "not both" in err


def test_issuer_revoke_and_approve_answer_json(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from issuer import Issuer

    monkeypatch.chdir(tmp_path)
    claims = load_catalogue().get("withholding-slip").sample_claims()
    (tmp_path / "one.json").write_text(json.dumps([claims], ensure_ascii=False), "utf-8")
    code, out, err = run("issuer", "offer", "--type", "withholding-slip", "--claims", "one.json",
                         "--dev", "--json")  # fmt: skip
    assert code == 0, err
    (offer,) = json.loads(out)
    issuer = Issuer.load(
        "issuer-dev-keys/issuer.key.pem", "issuer-dev-keys/issuer-chain.pem",
        iss="http://127.0.0.1:8080", store="issuer-dev.db",
    )  # fmt: skip
    batch = issuer.issue("withholding-slip", claims, holder=[jwk_from_public_key(generate_key())])
    issuer.close()
    (tmp_path / "copy.txt").write_text(batch.credentials[0], "ascii")
    code, out, _ = run("issuer", "revoke", "copy.txt", "--suspend", "--dev", "--json")
    assert code == 0 and json.loads(out) == {"batch_id": batch.batch_id, "status": "suspended"}
    code, out, _ = run("issuer", "revoke", batch.batch_id, "--reinstate", "--dev", "--json")
    assert json.loads(out) == {"batch_id": batch.batch_id, "status": "reinstated"}
    code, out, _ = run("issuer", "revoke", batch.batch_id, "--dev")
    assert out == f"revoked batch {batch.batch_id}\n"
    code, out, err = run("issuer", "approve", offer["offer_id"], "--dev", "--json")
    assert (code, out) == (1, "") and "error: not_pending: " in err


def test_sd_jwt_issue_and_present_answer_json(run: Run, tmp_path: Path) -> None:
    key = tmp_path / "issuer.jwk"
    key.write_text(json.dumps(jwk_from_private_key(generate_key())))
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"iss": "https://issuer.example", "given_name": "Hanako"}))
    code, out, _ = run("sd-jwt", "issue", "--key", str(key), "--claims", str(claims),
                       "--sd-all", "--json")  # fmt: skip
    token = json.loads(out)["sd_jwt"]
    assert code == 0 and token.count("~") == 2
    (tmp_path / "token.txt").write_text(token)
    code, out, _ = run("sd-jwt", "present", str(tmp_path / "token.txt"), "--json")
    assert code == 0 and json.loads(out)["presentation"].count("~") == 1


def test_wallet_delete_and_log_answer_json(wallet_file: Path, run: Run) -> None:
    options = ["--wallet", str(wallet_file), "--pin", PIN]
    code, out, err = run("wallet", "delete", "no-such-id", *options, "--json")
    assert code == 1 and out == "" and err.startswith("error: ")
    code, out, _ = run("wallet", "log", *options, "--verify", "--json")
    assert code == 0 and json.loads(out)["verified"] is True


@pytest.mark.parametrize(
    "argv",
    [
        ["trust", "show", "{dir}/trust-list.json"],
        ["trust", "verify-chain", "{dir}/issuer-example-corp.pem", "--trust-list",
         "{dir}/trust-list.json"],
        ["sd-jwt", "keygen"],
    ],
    ids=lambda v: " ".join(v[:2]),
)  # fmt: skip
def test_json_is_accepted_where_the_output_is_json_anyway(
    argv: list[str], run: Run, pki_dir: Path
) -> None:
    argv = [a.format(dir=pki_dir) for a in argv]
    plain, with_flag = run(*argv), run(*argv, "--json")
    assert plain[0] == with_flag[0] == 0
    assert json.loads(plain[1]).keys() == json.loads(with_flag[1]).keys()


# -- --trust-list / --trust-anchor -------------------------------------------------------------


def test_verify_chain_with_trust_anchors(run: Run, pki_dir: Path) -> None:
    leaf = str(pki_dir / "issuer-example-corp.pem")
    code, out, _ = run("trust", "verify-chain", leaf, "--trust-anchor", str(pki_dir / "root.pem"))
    result = json.loads(out)
    assert code == 0 and result["valid"] is True and "entitled_types" not in result
    # Entitlements and verifier anchors are only in a trust list.
    code, _, err = run("trust", "verify-chain", leaf, "--trust-anchor", str(pki_dir / "root.pem"),
                       "--type", "withholding-slip")  # fmt: skip
    assert code == 2 and "--trust-list" in err
    code, _, err = run("trust", "verify-chain", leaf)
    assert code == 2 and "--trust-list FILE or --trust-anchor PEM" in err


def _issuer_signed(tmp_path: Path, doctype: str) -> tuple[Path, Path, Path]:
    pki = make_test_pki(["Example Corp"])
    files = pki.write(tmp_path / "pki", {"Example Corp": ["withholding-slip"]})
    issuer = pki.issuer("Example Corp")
    now = datetime.now(UTC)
    mdoc = issue_mdoc(
        doctype, {"org.example": {"name": "Hanako"}}, issuer.private_key, list(issuer.chain),
        generate_key().public_key(), valid_from=now, valid_until=now + timedelta(days=1),
        signed=now,
    )  # fmt: skip
    credential = tmp_path / "credential.b64"
    credential.write_text(b64url_encode(mdoc.encode()))
    return credential, files["trust-list"], tmp_path / "pki" / "root.pem"


def test_mdoc_verify_with_a_trust_list_checks_the_entitlement(run: Run, tmp_path: Path) -> None:
    slip = load_catalogue().get("withholding-slip").doctype
    credential, trust_list, root = _issuer_signed(tmp_path, slip)
    code, out, err = run("mdoc", "verify", str(credential), "--trust-list", str(trust_list))
    assert code == 0, err
    assert json.loads(out)["documents"][0]["docType"] == slip
    other = load_catalogue().get("birth-certificate").doctype
    credential, trust_list, root = _issuer_signed(tmp_path / "other", other)
    code, out, err = run("mdoc", "verify", str(credential), "--trust-list", str(trust_list))
    assert (code, out) == (1, "") and err.startswith("error: issuer_not_entitled: ")
    # Bare anchors carry no entitlements: the chain is all that is checked.
    assert run("mdoc", "verify", str(credential), "--trust-anchor", str(root))[0] == 0


def test_verifier_serve_refuses_both_trust_options(
    run: Run, pki_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run("verifier", "serve", "--dev", "--trust-list",
                         str(pki_dir / "trust-list.json"), "--trust-anchor",
                         str(pki_dir / "root.pem"))  # fmt: skip
    assert (code, out) == (2, "") and "not both" in err
