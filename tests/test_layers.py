"""The packages form layers: a module imports only from its own package or from a package of a lower layer.

handlers / dinas -> conversation, jobs -> review -> delivery -> words, media, ops -> flows -> domain -> storage.
The graph is read from the source (tests/test_import_graph.py's reader), so an import inside a function or under
`TYPE_CHECKING` counts too. docs/architecture.md draws the same layers.
"""

from __future__ import annotations

import pytest

from tests.test_import_graph import imported, modules

#: The layer of each package (higher may import lower, never the other way). Same-layer packages may not
#: import each other either: only a package's own modules are at its level.
LAYERS: dict[str, int] = {
    "storage": 0, "storage.fast": 0, "storage.migrations": 1,
    "bot.settings": 1, "bot.domain": 1,
    "bot.flows": 2,
    "bot.words": 3, "bot.media": 3, "bot.ops": 3,
    "bot.delivery": 4,
    "bot.review": 5,
    "bot.conversation": 6, "bot.jobs": 6,
    "bot.handlers": 7, "bot.dinas": 7,
    "bot.service": 8,
    "bot.cli": 9, "bot.__main__": 10,
}
#: Same-layer neighbours a package may use (each an edge of the package DAG, never both ways).
SIDEWAYS = {("bot.ops", "bot.media"), ("storage", "storage.fast")}


def package_of(module: str) -> str:
    """The longest LAYERS key that is `module` or a package containing it."""
    parts = module.split(".")
    for cut in range(len(parts), 0, -1):
        if ".".join(parts[:cut]) in LAYERS:
            return ".".join(parts[:cut])
    raise KeyError(module)


def upward_imports() -> list[str]:
    found = modules()
    bad = []
    for name, path in found.items():
        if name in ("bot", "storage"):
            continue
        here = package_of(name)
        for dep in sorted(imported(name, path, found)):
            if dep in ("bot", "storage"):
                continue
            there = package_of(dep)
            if there == here or (here, there) in SIDEWAYS:
                continue
            if LAYERS[there] >= LAYERS[here]:
                bad.append(f"{name} ({here}, layer {LAYERS[here]}) imports {dep} ({there}, layer {LAYERS[there]})")
    return bad


def test_every_module_belongs_to_a_layer() -> None:
    unknown = []
    for name in modules():
        if name in ("bot", "storage"):
            continue
        try:
            package_of(name)
        except KeyError:
            unknown.append(name)
    assert not unknown, f"modules in no layer (add their package to LAYERS in {__file__}): {unknown}"


def test_no_module_imports_a_higher_or_sibling_layer() -> None:
    bad = upward_imports()
    assert not bad, "imports that go up or sideways between packages:\n" + "\n".join(bad)


@pytest.mark.parametrize(("here", "there"), sorted(SIDEWAYS))
def test_sideways_edges_go_one_way(here: str, there: str) -> None:
    assert (there, here) not in SIDEWAYS
