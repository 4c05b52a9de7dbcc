"""Service settings: one vocabulary for the issuer and the verifier, the names of earlier
releases still read (with a warning from files and the environment), prefixed environment
variables only, and the command line telling the operator about a renamed setting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from honnin.cli import main
from issuer import IssuerSettings, load_settings_file
from verifier import VerifierSettings

SHARED = {
    "name",
    "public_url",
    "store_path",
    "key_file",
    "chain_file",
    "host",
    "port",
    "dev",
    "log_level",
    "access_log",
    "max_body",
}


def test_both_services_use_the_same_names() -> None:
    assert set(IssuerSettings.model_fields) & set(VerifierSettings.model_fields) == SHARED


def test_verifier_public_url_defaults_to_host_and_port() -> None:
    settings = VerifierSettings(port=8411)
    assert settings.public_url is None and settings.base_url == "http://127.0.0.1:8411"
    assert "public_url must be an https URL (OpenID4VP 1.0 §5.10, §8.2)" in (
        settings.insecure_reasons()
    )
    assert settings.problems() == settings.insecure_reasons()


@pytest.mark.parametrize(
    ("cls", "old", "new"),
    [
        (IssuerSettings, "key_path", "key_file"),
        (IssuerSettings, "chain_path", "chain_file"),
        (VerifierSettings, "public_base_url", "public_url"),
        (VerifierSettings, "certificate_file", "chain_file"),
        (VerifierSettings, "key_path", "key_file"),
    ],
)
def test_old_names_still_work_as_keyword_arguments(
    cls: type[IssuerSettings | VerifierSettings], old: str, new: str
) -> None:
    settings = cls(**{old: "https://x.example/value"})
    assert getattr(settings, new) == "https://x.example/value"


def test_an_old_issuer_config_file_still_loads(tmp_path: Path) -> None:
    config = tmp_path / "issuer.json"
    config.write_text(json.dumps({"key_path": "k.pem", "chain_path": "c.pem", "port": 9000}))
    with pytest.warns(FutureWarning) as warned:
        settings = load_settings_file(config)
    assert (settings.key_file, settings.chain_file, settings.port) == ("k.pem", "c.pem", 9000)
    assert sorted(str(w.message).split("setting ")[1] for w in warned) == [
        "'chain_path' is deprecated, use 'chain_file'",
        "'key_path' is deprecated, use 'key_file'",
    ]


def test_an_old_verifier_config_file_still_loads(tmp_path: Path) -> None:
    config = tmp_path / "verifier.toml"
    config.write_text(
        '[verifier]\npublic_base_url = "https://verifier.example"\n'
        'key_file = "k.pem"\ncertificate_file = "c.pem"\n'
    )
    with pytest.warns(FutureWarning) as warned:
        settings = VerifierSettings.from_file(config)
    assert sorted(str(w.message).split("setting ")[1] for w in warned) == [
        "'certificate_file' is deprecated, use 'chain_file'",
        "'public_base_url' is deprecated, use 'public_url'",
    ]
    assert settings.public_url == "https://verifier.example"
    assert settings.chain_file == "c.pem" and settings.base_url == "https://verifier.example"


def test_new_names_load_without_a_warning(tmp_path: Path) -> None:
    config = tmp_path / "verifier.toml"
    config.write_text('[verifier]\npublic_url = "https://verifier.example"\nchain_file = "c"\n')
    settings = VerifierSettings.from_file(config, port=9443)  # filterwarnings=error
    assert (settings.public_url, settings.chain_file, settings.port) == (
        "https://verifier.example",
        "c",
        9443,
    )


def test_environment_names_are_prefixed_old_and_new(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONNIN_VERIFIER_PUBLIC_URL", "https://new.example")
    monkeypatch.setenv("HONNIN_ISSUER_KEY_FILE", "issuer.pem")
    monkeypatch.setenv("HONNIN_ISSUER_LOG_LEVEL", "warning")
    monkeypatch.setenv("HONNIN_ISSUER_ACCESS_LOG", "false")
    assert VerifierSettings.from_environment().public_url == "https://new.example"
    issuer = IssuerSettings.from_environment()
    assert (issuer.key_file, issuer.log_level, issuer.access_log) == (
        "issuer.pem",
        "warning",
        False,
    )
    monkeypatch.delenv("HONNIN_VERIFIER_PUBLIC_URL")
    monkeypatch.setenv("HONNIN_VERIFIER_PUBLIC_BASE_URL", "https://old.example")
    with pytest.warns(FutureWarning, match="environment: setting 'public_base_url'"):
        assert VerifierSettings.from_environment().public_url == "https://old.example"


def test_unprefixed_variables_are_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # A program's own PUBLIC_URL or KEY_PATH must not configure the services.
    for name in ("PUBLIC_URL", "PUBLIC_BASE_URL", "KEY_PATH", "KEY_FILE", "CERTIFICATE_FILE"):
        monkeypatch.setenv(name, "https://elsewhere.example")
    issuer, verifier = IssuerSettings(), VerifierSettings()
    assert (issuer.public_url, issuer.key_file) == (None, None)
    assert (verifier.public_url, verifier.key_file, verifier.chain_file) == (None, None, None)


def test_the_command_line_names_a_renamed_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["issuer", "init", "--dir", "keys", "--name", "Example Corp",
                 "--iss", "https://issuer.example"]) == 0  # fmt: skip
    paths = json.loads(capsys.readouterr().out)
    config = tmp_path / "issuer.json"
    config.write_text(
        json.dumps(
            {
                "public_url": "https://issuer.example",
                "key_path": paths["key"],
                "chain_path": paths["chain"],
                "store_path": str(tmp_path / "issuer.db"),
            }
        )
    )
    # Production settings (no --dev) from an old file: loaded, and the operator is told.
    assert main(["issuer", "approve", "OFFER", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "warning: " in err and "'key_path' is deprecated, use 'key_file'" in err
    assert err.strip().splitlines()[-1].startswith("error: not_pending: ")


def test_invalid_settings_are_a_typed_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "verifier.toml"
    config.write_text('[verifier]\nport = "many"\n')
    assert main(["verifier", "serve", "--config", str(config)]) == 1
    assert capsys.readouterr().err.startswith("error: invalid_settings: ")
    config.write_text('[verifier]\npublic_url = "https://v.example"\nunknown_setting = 1\n')
    assert main(["verifier", "serve", "--config", str(config)]) == 1
    assert "unknown_setting" in capsys.readouterr().err


def _doc_sample(role: str) -> str:
    text = (Path(__file__).parent.parent / "docs" / "CLI.md").read_text(encoding="utf-8")
    (sample,) = re.findall(rf"```toml\n(\[{role}\]\n.*?)```", text, flags=re.DOTALL)
    return sample


@pytest.mark.parametrize("role", ["issuer", "verifier"])
def test_the_documented_sample_configs_load_and_are_fit_for_production(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HONNIN_VERIFIER_API_TOKEN", "t" * 43)
    toml = tmp_path / f"{role}.toml"
    toml.write_text(_doc_sample(role), encoding="utf-8")
    cls = IssuerSettings if role == "issuer" else VerifierSettings
    settings = cls.from_file(toml)
    assert settings.insecure_reasons() == []
    assert settings.public_url == f"https://{role}.example.com"
    # The same settings as JSON, with the role's table or at the top level.
    values = settings.model_dump(mode="json", exclude={"api_token"})
    for document in ({role: values}, values):
        as_json = tmp_path / f"{role}.json"
        as_json.write_text(json.dumps(document), encoding="utf-8")
        assert cls.from_file(as_json) == settings
