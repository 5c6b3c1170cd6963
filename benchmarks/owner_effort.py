"""How many messages an owner sends: scripted owners played through the terminal channel, counts printed.

    python benchmarks/owner_effort.py

Runs the terminal handler in-process (what `umkm-bot chat` runs) on a fresh SQLite database in a temporary
folder. Each scripted line is one owner message: a typed answer, a number pressing a button, or photo paths.
A button is named by its label and pressed by its number, as a person at the terminal would.
Exits non-zero when a scenario misses its target or does not end where it should.
"""

from __future__ import annotations

import asyncio
import io
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.conversation.engine import Engine  # noqa: E402
from bot.handlers.terminal import Terminal  # noqa: E402
from bot.review.officers import add_officer  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Database  # noqa: E402

# A perorangan, non-PKP, mikro owner. INAPROC account and email are asked later, with the upload kit.
BUSINESS = ["Keripik Bu Sari", "Sari Wulandari", "[Perorangan]", "1234567890123", "10794", "01.312.166.0-091.000",
            "[Bukan PKP]", "[Mikro]", "Lampung Utara", "Jl. Merdeka No. 5, Kotabumi", "0812 3456 7890"]
FIRST_PRODUCT = ["Keripik Singkong Balado 250 g", "[Makanan]", "Bu Sari",
                 "Keripik singkong renyah bumbu balado, 250 gram, kemasan standing pouch.", "25rb", "[pcs]",
                 "500", "250 gr 20x15x5 cm", "[Ya]", "P-IRT 2063509010789-26", "ID31110000123450321", "{photos}",
                 "[Kirim ke Dinas]"]
SECOND_PRODUCT = ["[Produk baru]", "Keripik Pisang Coklat 200 g", "[Makanan]", "[Ya, sama]",
                  "Keripik pisang lumer coklat, 200 gram, kemasan standing pouch.", "20rb", "300",
                  "{photos}", "[Kirim ke Dinas]"]
REVISION = ["22.500", "[Kirim ke Dinas]"]  # the notice asks the flagged price: the owner just types it
OFFICER_FLAGS_PRICE = ["[Minta revisi]", "[Harga satuan]", "[Selesai memilih]", "Harga terlalu tinggi."]


@dataclass
class Scenario:
    name: str
    messages: int
    target: int
    reached: bool


class Person:
    """One terminal chat; counts the lines it types."""

    def __init__(self, engine: Engine, address: str, photos: list[Path]) -> None:
        self.out = io.StringIO()
        self.terminal = Terminal(engine, address, self.out)
        self.photos = photos
        self.sent = 0

    async def play(self, script: list[str]) -> None:
        await self.terminal.poll()
        for item in script:
            await self.terminal.handle_line(self.line(item))
            self.sent += 1

    def line(self, item: str) -> str:
        if item == "{photos}":
            return " ".join(str(p) for p in self.photos)
        if item.startswith("[") and item.endswith("]"):
            labels = [c.label for c in self.terminal.sender.last_choices]
            if item[1:-1] not in labels:
                raise SystemExit(f"no button {item} among {labels}\n--- last output ---\n{self.tail()}")
            return str(labels.index(item[1:-1]) + 1)
        return item

    def tail(self, chars: int = 1500) -> str:
        return self.out.getvalue()[-chars:]

    def mark(self) -> int:
        """Starts a scenario: counts from zero, output read from here."""
        self.sent = 0
        return len(self.out.getvalue())

    def since(self, mark: int) -> str:
        return self.out.getvalue()[mark:]


async def run(workdir: Path) -> list[Scenario]:
    photos = []
    for color in ("red", "blue"):
        path = workdir / f"{color}.jpg"
        texture = Image.frombytes("L", (800, 800), random.Random(color).randbytes(800 * 800)).convert("RGB")
        Image.blend(Image.new("RGB", (800, 800), color), texture, 0.5).save(path, "JPEG")  # sharp, not flat
        photos.append(path)
    settings = Settings(_env_file=None, database_url=f"sqlite:///{workdir / 'umkm.db'}",
                        media_dir=workdir / "media")
    db = Database(settings.database_url)
    await db.upgrade()
    engine = Engine(db, settings)
    await add_officer(db, "Budi", "18.03", "terminal", "dinas", settings)
    owner, officer = Person(engine, "owner", photos), Person(engine, "dinas", photos)
    results = []

    start = owner.mark()
    await owner.play(["/start", "[Saya setuju]", *BUSINESS, *FIRST_PRODUCT])
    results.append(Scenario("first product, with the business profile", owner.sent, 26,
                            "Terkirim" in owner.since(start)))

    start = owner.mark()
    await owner.play(SECOND_PRODUCT)
    results.append(Scenario("second product of the same kind", owner.sent, 12, "Terkirim" in owner.since(start)))

    await officer.play(OFFICER_FLAGS_PRICE)  # on the newest submission, the second product
    await owner.terminal.poll()
    start = owner.mark()
    await owner.play(REVISION)
    after = owner.since(start)
    results.append(Scenario("one-field revision", owner.sent, 3, "Terkirim" in after and "Rp22.500" in after))
    await db.dispose()
    return results


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(run(Path(tmp)))
    width = max(len(r.name) for r in results)
    print(f"{'scenario'.ljust(width)}  owner messages  target  result")
    failed = False
    for r in results:
        ok = r.reached and r.messages <= r.target
        failed |= not ok
        verdict = "ok" if ok else ("NOT SUBMITTED" if not r.reached else "over target")
        print(f"{r.name.ljust(width)}  {r.messages:>14}  {r.target:>6}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
