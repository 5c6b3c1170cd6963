"""GET /metrics: counters move with webhooks through the fake Bot API; database figures; the token."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.service.web import create_app
from bot.settings import Settings
from storage.db import Database
from tests.conftest import World
from tests.test_web import closed_port

OWNER = 4242


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_move_with_telegram_webhooks(world: World) -> None:
    before = await scrape(world.client)
    owner = world.user(OWNER)
    start = owner.message_update("command_start", text="/start")
    start["message"]["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert (await owner.post(start)).status_code == 200
    assert (await owner.post(start)).status_code == 200  # Telegram redelivers
    assert (await owner.post(start, secret="wrong")).status_code == 403
    assert (await world.client.post("/telegram/webhook", content=b"{", headers={
        "X-Telegram-Bot-Api-Secret-Token": "webhook-secret-for-tests"})).status_code == 400
    await world.channels.deliverer.deliver_due()
    after = await scrape(world.client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("umkm_updates_total", channel="telegram", outcome="handled") == 1
    assert moved("umkm_updates_total", channel="telegram", outcome="duplicate") == 1
    assert moved("umkm_updates_total", channel="telegram", outcome="refused") == 1
    assert moved("umkm_updates_total", channel="telegram", outcome="malformed") == 1
    assert moved("umkm_update_handling_seconds_count", channel="telegram") == 2
    assert moved("umkm_sends_total", channel="telegram", result="sent") == len(world.api.sent("sendMessage", OWNER))
    assert value(after, "umkm_database_up") == 1
    assert value(after, "umkm_products", status="draft") == 0
    assert value(after, "umkm_outbox_messages", channel="telegram", status="pending") == 0


async def test_outbox_depth_and_429_counted(world: World) -> None:
    owner = world.user(OWNER)
    world.api.fail("sendMessage", (429, {"retry_after": 30}))
    before = await scrape(world.client)
    outbound = await world.channels.telegram_updates.handle(owner.message_update("command_start", text="/start"))
    await world.channels.deliverer.deliver(outbound)
    after = await scrape(world.client)
    assert value(after, "umkm_sends_total", channel="telegram", result="429") - \
        value(before, "umkm_sends_total", channel="telegram", result="429") == 1
    assert value(after, "umkm_outbox_messages", channel="telegram", status="pending") == len(outbound) >= 1
    assert value(after, "umkm_outbox_oldest_pending_seconds", channel="telegram") >= 0


async def test_token_protects_metrics(database: Database, settings: Settings) -> None:
    protected = settings.model_copy(update={"metrics_token": "s3cret"})
    app = create_app(protected, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
        await scrape(client, Authorization="Bearer s3cret")
    off = create_app(settings.model_copy(update={"metrics_enabled": False}), database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://bot") as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_still_served_when_the_database_is_gone(settings: Settings) -> None:
    broken = Database(f"postgresql://bot@127.0.0.1:{closed_port()}/umkm")
    try:
        app = create_app(settings, broken)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client:
            samples = await scrape(client)
    finally:
        await broken.dispose()
    assert value(samples, "umkm_database_up") == 0


def test_multiprocess_mode_adds_up_the_processes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from bot.ops import metrics; metrics.sent('whatsapp', '429')"
    for _ in range(2):  # two processes that count, then exit
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    scrape_code = "from bot.ops import metrics; print(metrics._process_counters().decode())"
    output = subprocess.run([sys.executable, "-c", scrape_code], env=env, check=True, timeout=60,
                            capture_output=True, text=True).stdout
    assert 'umkm_sends_total{channel="whatsapp",result="429"} 2.0' in output
