"""The corpus of malformed payloads (tests/fixtures/malformed/<channel>/), plus the ones too big to keep as files."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).parent / "fixtures" / "malformed"
DEPTH = 200_000


def corpus(channel: str) -> list[tuple[str, bytes]]:
    """(name, raw body) of every malformed payload for `channel` ("telegram" or "whatsapp")."""
    items = [(path.stem, path.read_bytes()) for path in sorted((CORPUS / channel).iterdir())]
    head = b'{"update_id": 300000099, "message": ' if channel == "telegram" else b'{"object": "x", "entry": '
    items.append((f"nested_{DEPTH}_deep", head + b"[" * DEPTH + b"]" * DEPTH + b"}"))
    items.append(("nested_objects_900_deep", head + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}"))
    return items
