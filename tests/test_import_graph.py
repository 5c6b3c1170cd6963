"""No import cycles among the modules of bot/ and storage/.

The graph is read from the source with `ast`, so it counts every import: at the top, inside functions and under
`TYPE_CHECKING` (an import hidden there or in a function still ties the two modules together). A cycle
fails the test, named module by module, unless it is one of KNOWN_CYCLES, which go through files being
changed elsewhere and are to be removed by the package restructure.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage")

#: Cycles that remain, each as its set of modules; an allowed cycle may shrink, never grow or appear anew.
KNOWN_CYCLES: list[frozenset[str]] = [  # each to be broken, then removed here
]


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    deps: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                if f"{module}.{alias.name}" in known:
                    deps.add(f"{module}.{alias.name}")
                elif module in known:
                    deps.add(module)
    deps.discard(name)
    return deps


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (iterative): the groups of modules that import each other, of two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def a_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """One cycle through the group, as a path from its first module back to it (breadth-first: a short one)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle through {sorted(group)}")


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Imports under TYPE_CHECKING, inside functions and relative ones are all edges."""
    source = ("from typing import TYPE_CHECKING\nfrom . import b\nif TYPE_CHECKING:\n    from bot.c import X\n"
              "def f():\n    import bot.d\n    from bot import e\n")
    known = {m: Path() for m in ("bot", "bot.a", "bot.b", "bot.c", "bot.d", "bot.e")}
    path = tmp_path / "a.py"
    path.write_text(source)
    assert imported("bot.a", path, known) == {"bot.b", "bot.c", "bot.d", "bot.e"}
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
    assert a_cycle(graph, {"a", "b", "c"}) == ["a", "b", "c", "a"]


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert "bot.conversation.engine" in graph and "storage.models" in graph
    new = []
    for group in strongly_connected(graph):
        if not any(group <= known for known in KNOWN_CYCLES):
            new.append(f"{len(group)} modules, e.g. {' -> '.join(a_cycle(graph, group))}; all: {sorted(group)}")
    assert not new, "import cycles among bot/ and storage/:\n" + "\n".join(new)


def test_known_cycles_still_exist() -> None:
    """A cycle broken is removed from KNOWN_CYCLES, so it cannot come back unnoticed."""
    groups = strongly_connected(import_graph())
    stale = [sorted(known) for known in KNOWN_CYCLES if not any(len(group & known) > 1 for group in groups)]
    assert not stale, f"no longer cycles, remove from KNOWN_CYCLES: {stale}"
