import asyncio, json, time
import httpx
from tests.integration.test_alerts import alerting_bot, pagerduty, ALERTS_TOKEN, alertmanager_group, alert, incidents  # noqa

async def test_flood_timing(alerting_bot):
    bot = await alerting_bot()
    instances = [f"https://host{n}.example.org" for n in range(20)]
    bodies = [json.dumps(alertmanager_group(*(alert(instance=i) for i in instances[: 1 + n % 20]))).encode() for n in range(200)]
    headers = {"Authorization": f"Bearer {ALERTS_TOKEN}", "Content-Type": "application/json"}
    started = time.monotonic()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=30) as client:
        answers = await asyncio.gather(*(client.post(f"{bot.url}/webhooks/alertmanager", content=b, headers=headers) for b in bodies))
    print("gather:", time.monotonic() - started)
    started = time.monotonic()
    await incidents(bot)
    print("settle:", time.monotonic() - started)


async def test_flood_profile(alerting_bot, monkeypatch):
    import bot.integrations.alerts.webhooks as w
    times = []
    real = w.receive_alert
    async def timed(ctx, event):
        t = time.monotonic()
        try:
            return await real(ctx, event)
        finally:
            times.append(time.monotonic() - t)
    monkeypatch.setattr(w, "receive_alert", timed)
    bot = await alerting_bot()
    instances = [f"https://host{n}.example.org" for n in range(20)]
    bodies = [json.dumps(alertmanager_group(*(alert(instance=i) for i in instances[: 1 + n % 20]))).encode() for n in range(200)]
    headers = {"Authorization": f"Bearer {ALERTS_TOKEN}", "Content-Type": "application/json"}
    started = time.monotonic()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=30) as client:
        answers = await asyncio.gather(*(client.post(f"{bot.url}/webhooks/alertmanager", content=b, headers=headers) for b in bodies))
    print("gather:", time.monotonic() - started, "sum receive:", sum(times), "max:", max(times), "n>0.5:", len([t for t in times if t > 0.5]))


async def test_flood_lag(alerting_bot, monkeypatch):
    import bot.integrations.alerts.webhooks as w
    from storage import db as dbmod
    bot = await alerting_bot()
    begins = []
    from sqlalchemy import event
    def before(conn):
        conn.info["t"] = time.monotonic()
    lag = []
    async def probe():
        while True:
            t = time.monotonic(); await asyncio.sleep(0.01); lag.append(time.monotonic() - t - 0.01)
    task = asyncio.create_task(probe())
    instances = [f"https://host{n}.example.org" for n in range(20)]
    bodies = [json.dumps(alertmanager_group(*(alert(instance=i) for i in instances[: 1 + n % 20]))).encode() for n in range(200)]
    headers = {"Authorization": f"Bearer {ALERTS_TOKEN}", "Content-Type": "application/json"}
    started = time.monotonic()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=30) as client:
        answers = await asyncio.gather(*(client.post(f"{bot.url}/webhooks/alertmanager", content=b, headers=headers) for b in bodies))
    task.cancel()
    print("gather:", time.monotonic() - started, "max lag", max(lag), "sum lag", sum(lag), "n", len(lag))
