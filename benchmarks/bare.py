"""The bare reference: a Starlette endpoint that checks the secret and parses the JSON, nothing else."""

from __future__ import annotations

import hmac
import json
import os
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = os.environ.get("BENCH_SECRET", "")


async def webhook(request: Request) -> Response:
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), SECRET.encode()):
        return Response(status_code=403)
    data = json.loads(await request.body())
    return Response(status_code=200 if isinstance(data, dict) else 400)


app = Starlette(routes=[Route("/telegram/webhook", webhook, methods=["POST"]),
                        Route("/healthz", lambda r: Response("ok"), methods=["GET"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
                loop="uvloop", http="httptools")
