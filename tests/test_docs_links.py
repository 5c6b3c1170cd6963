"""The README and docs/ hold together: every relative link reaches a file of the repository, every `#anchor`
names a heading (GitHub's slugs), and the README stays a newcomer's page (under 300 lines).

Links are markdown links and images, `[text](path)`, `[text](path#anchor)`, `[text](#anchor)`; http(s) and
mailto links are not followed. Fenced code blocks and inline code are skipped, so examples in them are not links.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 300

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target "title") or ![alt](target); the text may hold one level of brackets.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
EXTERNAL = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fenced = [], None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if match:
            if fenced is None:
                fenced = match.group(1)
            elif match.group(1) == fenced:
                fenced = None
            continue
        if fenced is None:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text without markup, lowercased, punctuation other than - and _
    dropped, each space a hyphen (runs are not collapsed: "a / b" -> "a--b")."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"<[^>]+>", "", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a markdown file, with GitHub's -1, -2... for repeated headings."""
    seen: dict[str, int] = {}
    result = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            found.append((number, match.group(1)))
    return found


def bad_links(path: Path) -> list[str]:
    """One line per link of `path` that leads nowhere, saying why."""
    problems = []
    where = path.relative_to(ROOT)
    for number, target in links(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        if file_part:
            resolved = (path.parent / unquote(file_part)).resolve()
            if not resolved.is_relative_to(ROOT):
                problems.append(f"{where}:{number}: ({target}) points outside the repository")
                continue
            if not resolved.exists():
                problems.append(f"{where}:{number}: ({target}) no such file: {resolved.relative_to(ROOT)}")
                continue
        else:
            resolved = path
        if anchor and resolved.suffix == ".md" and resolved.is_file():
            if unquote(anchor).lower() not in anchors(resolved):
                known = ", ".join(sorted(anchors(resolved))) or "none"
                problems.append(
                    f"{where}:{number}: ({target}) no heading #{anchor} in {resolved.relative_to(ROOT)}"
                    f" (its anchors: {known})"
                )
    return problems


def test_slug_follows_github() -> None:
    assert slug("Dinas console / Konsol Dinas") == "dinas-console--konsol-dinas"
    assert slug("`umkm-bot run` and the outbox") == "umkm-bot-run-and-the-outbox"
    assert slug("Backup & restore (SQLite, PostgreSQL)") == "backup--restore-sqlite-postgresql"
    assert slug("Bahasa Indonesia: Konsol Dinas") == "bahasa-indonesia-konsol-dinas"
    assert slug("**Memory** of snake_case") == "memory-of-snake_case"


def test_link_parsing_skips_code(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n[a](x.md) and `[not](y.md)` and ![img](pic.png#top)\n```\n[nor](z.md)\n# not a heading\n```\n",
        encoding="utf-8",
    )
    assert links(page) == [(2, "x.md"), (2, "pic.png#top")]
    assert anchors(page) == {"title"}


def test_docs_exist() -> None:
    names = {path.name for path in doc_files()}
    assert {"README.md", "dinas.md", "operations.md", "performance.md", "architecture.md"} <= names


def test_every_relative_link_and_anchor_resolves() -> None:
    problems = [problem for path in doc_files() for problem in bad_links(path)]
    assert not problems, f"{len(problems)} broken link(s) in README.md / docs/*.md:\n" + "\n".join(problems)


def test_readme_is_short() -> None:
    count = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert count < README_MAX_LINES, (
        f"README.md has {count} lines (limit {README_MAX_LINES}): move detail into docs/ and link to it"
    )
