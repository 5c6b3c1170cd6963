"""The UMKM Katalog Lokal onboarding bot. `version()` is the one version: pyproject.toml's `version`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

DISTRIBUTION = "umkm-bot"
UNKNOWN_VERSION = "0+unknown"


@cache
def version() -> str:
    """The installed distribution's version (pyproject.toml's `version`, as installed); from a source tree that
    was never installed, pyproject.toml's own; else `0+unknown`. Read once, on first use (not at import)."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return _source_version() or UNKNOWN_VERSION


def _source_version() -> str | None:
    import tomllib

    try:
        with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as file:
            project = tomllib.load(file).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    found = project.get("version") if project.get("name") == DISTRIBUTION else None
    return str(found) if found else None
