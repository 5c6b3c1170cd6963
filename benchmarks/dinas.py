"""Benchmark of the Dinas console on PostgreSQL: page times with 100,000 products, and export memory.

    python benchmarks/dinas.py [--requests N] [--products N]

Needs PostgreSQL at 127.0.0.1:5432/test (or BENCH_POSTGRES_URL); without it, it prints one line and exits 0.
It works in its own schema (dropped at the end), fills it with SQL (generate_series, not the ORM), serves
the real app (`bot.service.web.create_app`) with uvicorn on loopback in a child process, signs officers in through
one-time links, and times bounded sequential requests. The export runs in a child process whose peak RSS
is read with os.wait4.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bot.review.scope import districts  # noqa: E402
from storage.db import Database  # noqa: E402

URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
HEAVY = "18.03"  # the district holding the 10,000 approved products of the export


def district_codes() -> list[str]:
    """50 kab/kota: all of Lampung (15), Jawa Barat (27), and 8 of Jawa Tengah."""
    codes = [*districts("18"), *districts("32"), *districts("33")][:50]
    assert len(codes) == 50 and HEAVY in codes
    return codes


SEED_SQL = """
INSERT INTO officer (id, name, region_code, active, created_at)
  VALUES (1, 'Petugas Lampung Utara', '18.03', true, now()), (2, 'Petugas Lampung', '18', true, now()),
         (3, 'A', '18.01', true, now()), (4, 'B', '32.01', true, now()), (5, 'C', '32.73', true, now()),
         (6, 'D', '33.01', true, now()), (7, 'E', '18.72', true, now()), (8, 'F', '32', true, now()),
         (9, 'G', '33', true, now());
INSERT INTO owner (id, created_at) SELECT g, now() FROM generate_series(1, {businesses}) g;
INSERT INTO business (id, owner_id, nama_usaha, nama_pemilik, nib, kbli, npwp, skala, region_code, alamat, phone,
                      skipped, completed_at, created_at)
  SELECT g, g, 'Usaha ' || g, 'Pemilik ' || g, lpad(g::text, 13, '0'), '10794', lpad(g::text, 15, '0'), 'mikro',
         CASE WHEN (g - 1) % 50 < 7 THEN '{heavy}' ELSE ({codes})[1 + g % 49] END,
         'Jl. Merdeka No. ' || g || ', Kec. Kecamatan ' || (g % 23), '+62812' || lpad(g::text, 8, '0'),
         '["email"]'::json, now() - interval '200 days', now() - interval '200 days'
  FROM generate_series(1, {businesses}) g;
INSERT INTO product (id, business_id, status, nama_produk, kategori, merek, deskripsi, harga, satuan, stok, min_beli,
                     berat_gram, pdn, tkdn, pirt, bpom, halal, sni, skipped, created_at, updated_at, submitted_at)
  SELECT p, 1 + (p - 1) / 5, s.status,
         (ARRAY['Keripik','Tas anyaman','Kopi bubuk','Batik tulis','Sepatu kulit'])[1 + p % 5] || ' ' || p,
         (ARRAY['makanan','kerajinan','minuman','pakaian','alas_kaki'])[1 + p % 5],
         'Merek ' || (p % 97), 'Deskripsi produk yang cukup panjang untuk katalog, nomor ' || p,
         10000 + (p % 50) * 1000,
         'pcs', 100 + p % 400, 1 + p % 10, 250, p % 3 <> 0, NULL, NULL, NULL, NULL, NULL,
         CASE WHEN s.status = 'draft' THEN '[]' ELSE '["tkdn","pirt","bpom","halal","sni"]' END::json,
         now() - interval '190 days', now() - ((p % 30) || ' days')::interval,
         CASE WHEN s.status = 'draft' THEN NULL ELSE now() - ((p % 180) || ' days')::interval - interval '2 days' END
  FROM generate_series(1, {products}) p,
  LATERAL (SELECT (p - 1) / 5 AS b) owner_of,  -- business id - 1; 7 in every 50 are in the heavy district
  LATERAL (SELECT CASE WHEN owner_of.b % 50 < 7 THEN  -- exactly 5 of every 7 of its products are approved
             (ARRAY['approved','approved','approved','approved','approved','submitted','draft'])[
               1 + (((owner_of.b / 50) * 7 + owner_of.b % 50) * 5 + (p - 1) % 5) % 7]
           ELSE (ARRAY['approved','approved','approved','approved','submitted','revision_requested','rejected',
                       'draft','draft','draft'])[1 + p % 10] END AS status) s;
INSERT INTO producthistory (product_id, status, source, created_at)
  SELECT id, 'submitted', 'telegram', submitted_at FROM product WHERE submitted_at IS NOT NULL;
INSERT INTO review (product_id, officer_id, decision, reason, flagged_fields, source, created_at)
  SELECT id, 1, CASE status WHEN 'approved' THEN 'approved' WHEN 'rejected' THEN 'rejected' ELSE 'revision' END,
         '', CASE WHEN status = 'revision_requested' THEN '["harga","deskripsi"]' ELSE '[]' END::json, 'web',
         LEAST(now(), submitted_at + ((id % 9) || ' days')::interval)
  FROM product WHERE status IN ('approved', 'rejected', 'revision_requested');
INSERT INTO productphoto (product_id, path, sha256, width, height, source_id, created_at)
  SELECT id, substr(md5(id::text), 1, 2) || '/' || md5(id::text) || '.jpg', md5(id::text), 640, 480, '', now()
  FROM product WHERE status <> 'draft';
SELECT setval(pg_get_serial_sequence('owner', 'id'), {businesses});
SELECT setval(pg_get_serial_sequence('business', 'id'), {businesses});
SELECT setval(pg_get_serial_sequence('product', 'id'), {products});
SELECT setval(pg_get_serial_sequence('officer', 'id'), 9);
"""


async def pg_available() -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return str(exc)
    await conn.close()
    return None


def seed_sql(products: int) -> str:
    """SEED_SQL for `products` products, five per business (benchmarks/memory.py uses it too)."""
    return SEED_SQL.format(businesses=products // 5, products=products, heavy=HEAVY,
                           codes="ARRAY[" + ",".join(f"'{c}'" for c in district_codes() if c != HEAVY) + "]")


async def seed(schema: str, products: int) -> None:
    import asyncpg

    db = Database(URL, schema=schema)
    await db.upgrade()
    await db.dispose()
    sql = seed_sql(products)
    conn = await asyncpg.connect(URL, server_settings={"search_path": schema})
    try:
        await conn.execute(sql)
        for table in ("owner", "business", "product", "producthistory", "review", "productphoto"):
            await conn.execute(f"VACUUM ANALYZE {table}")  # as autovacuum would soon after a bulk load
    finally:
        await conn.close()


async def sign_in_link(schema: str, officer_id: int, port: int) -> str:
    from bot.review import signin
    from storage.models import utcnow

    db = Database(URL, schema=schema)
    try:
        async with db.transaction() as session:
            return await signin.issue_link(session, settings(schema, port), officer_id, utcnow())
    finally:
        await db.dispose()


def settings(schema: str, port: int):  # type: ignore[no-untyped-def]
    from bot.settings import Settings

    return Settings(_env_file=None, database_url=URL, web_port=port, dinas_secret_key=f"bench-{schema}",
                    media_dir=Path(tempfile.gettempdir()) / "bench-media")


def serve(schema: str, port: int) -> None:
    """Child process: the real app on loopback, on the benchmark's schema."""
    import uvicorn

    from bot.service.web import create_app

    app = create_app(settings(schema, port), Database(URL, schema=schema))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def export_child(schema: str, region: str, out: str) -> None:
    """Child process: one export to a file (its peak RSS is what the parent reports)."""
    from bot.dinas import catalogue
    from bot.dinas.export import export_to_file

    async def run() -> int:
        db = Database(URL, schema=schema)
        try:
            return await export_to_file(db, catalogue.Scope(region), "xlsx", Path(out))
        finally:
            await db.dispose()

    print(asyncio.run(run()))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def signed_in_client(schema: str, officer_id: int, port: int) -> httpx.AsyncClient:
    link = await sign_in_link(schema, officer_id, port)
    client = httpx.AsyncClient(timeout=30)
    page = await client.get(link)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    done = await client.post(link, data={"csrf": token.group(1)})
    assert done.status_code == 303, done.text
    return client


async def time_requests(client: httpx.AsyncClient, url: str, n: int) -> tuple[float, float]:
    for _ in range(3):  # warm up
        assert (await client.get(url)).status_code == 200, url
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = await client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, -(-9 * len(ordered) // 10) - 1)]


def measure_export(schema: str, region: str) -> tuple[int, float, float]:
    """(rows, seconds, peak RSS in MiB) of an XLSX export in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "export.xlsx"
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--export-child", schema, region, str(out)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        rows = int(child.stdout.read().strip() or 0)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        assert child.returncode == 0
        return rows, time.perf_counter() - start, usage.ru_maxrss / 1024


async def wait_until_up(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(f"http://127.0.0.1:{port}/healthz")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise SystemExit("the app did not start")


async def bench(requests: int, products: int) -> None:
    problem = await pg_available()
    if problem:
        print(f"SKIPPED: PostgreSQL is not reachable at {URL} ({problem})")
        return
    import asyncpg

    schema = f"bench_dinas_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(URL)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    server = None
    try:
        start = time.perf_counter()
        await seed(schema, products)
        print(f"seeded {products:,} products across 50 districts in {time.perf_counter() - start:.1f} s")
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", schema, str(port)])  # noqa: ASYNC220
        await wait_until_up(port)
        base = f"http://127.0.0.1:{port}/dinas"
        district = await signed_in_client(schema, 1, port)
        province = await signed_in_client(schema, 2, port)
        cases = [
            ("/dinas/ (queue), district officer", district, f"{base}/"),
            ("/dinas/products, district", district, f"{base}/products"),
            ("/dinas/products?status=approved&q=keripik", district, f"{base}/products?status=approved&q=keripik"),
            ("/dinas/products?kategori=kerajinan&from=...", district,
             f"{base}/products?kategori=kerajinan&from=2026-01-01&page=3"),
            ("/dinas/products, province", province, f"{base}/products"),
            ("/dinas/progress, district officer (kept 1 min)", district, f"{base}/progress"),
            ("/dinas/progress, province officer (kept 1 min)", province, f"{base}/progress"),
        ]
        print(f"\n{'page':48} {'median ms':>10} {'p90 ms':>8}   ({requests} requests each, sequential)")
        for label, client, url in cases:
            median, p90 = await time_requests(client, url, requests)
            print(f"{label:48} {median:10.1f} {p90:8.1f}")
        # The progress figures are kept for a minute per region: the first view of each region is cold.
        for label, officers in (("/dinas/progress, first view, 6 districts", (1, 3, 4, 5, 6, 7)),
                                ("/dinas/progress, first view, 3 provinces", (2, 8, 9))):
            times = []
            for officer_id in officers:
                client = await signed_in_client(schema, officer_id, port)
                start = time.perf_counter()
                assert (await client.get(f"{base}/progress")).status_code == 200
                times.append((time.perf_counter() - start) * 1000)
                await client.aclose()
            print(f"{label:48} {statistics.median(times):10.1f} {max(times):8.1f} (max)")
        await district.aclose()
        await province.aclose()
        print()
        for region in (HEAVY, "18.01"):
            rows, seconds, rss = measure_export(schema, region)
            print(f"export {region} to XLSX in a child process: {rows:,} rows, {seconds:.1f} s, peak RSS {rss:.0f} MiB")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()
        print(f"schema {schema} dropped")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve(sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) > 1 and sys.argv[1] == "--export-child":
        return export_child(*sys.argv[2:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (after 3 warm-ups)")
    parser.add_argument("--products", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(bench(args.requests, args.products))


if __name__ == "__main__":
    main()
