"""python-telegram-bot's HTTP through aiohttp (its `BaseRequest` extension point) instead of httpx.

Every reply is one Bot API call, and httpx spends about twice aiohttp's CPU on one (benchmarks/send_cost.py).
Timeouts and errors keep python-telegram-bot's meaning: its defaults (5 s connect, read and write, 1 s to wait
for a pooled connection, 20 s to upload media), `TimedOut` for a timeout, `NetworkError` for anything else the
connection does. python-telegram-bot's private "not given" class and aiohttp's proxy lookup (aiohttp.helpers)
are rows of INTERNALS in tests/test_library_internals.py; both libraries are bounded in pyproject.toml.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

READ, WRITE, CONNECT, POOL, MEDIA_WRITE = 5.0, 5.0, 5.0, 1.0, 20.0
DefaultValue = type(BaseRequest.DEFAULT_NONE)  # "not given" (python-telegram-bot keeps the class private)


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _sum(*parts: float | None) -> float | None:
    """A total of timeouts, None (no limit) when any part has none."""
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


class AiohttpRequest(BaseRequest):
    """One aiohttp session (created in `initialize`, inside the running loop) with a bounded connection pool."""

    __slots__ = ("_session", "_pool_size", "_proxies")

    def __init__(self, connection_pool_size: int = 256) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._pool_size = connection_pool_size
        self._proxies: dict[tuple[str, str | None, int | None], tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    def _proxy(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """HTTP(S)_PROXY for this address unless NO_PROXY exempts it, as python-telegram-bot's httpx client reads
        them (aiohttp's own lookup, done once per scheme, host and port)."""
        target = URL(url)
        key = (target.scheme, target.host, target.port)
        if key not in self._proxies:
            try:
                self._proxies[key] = get_env_proxy_for_url(target)
            except LookupError:
                self._proxies[key] = (None, None)
        return self._proxies[key]

    @property
    def read_timeout(self) -> float | None:
        return READ

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            # not trust_env: with it aiohttp looks for ~/.netrc in a worker thread on every request; the proxy
            # from the environment is looked up once per address instead (_proxy)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(  # noqa: PLR0917 (python-telegram-bot's BaseRequest.do_request, positional there)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None and request_data.contains_files else None
        read = _given(read_timeout, READ)
        write = _given(write_timeout, MEDIA_WRITE if files else WRITE)
        connect = _given(connect_timeout, CONNECT)
        pool = _given(pool_timeout, POOL)
        # aiohttp has no write timeout: the whole call is bounded by the sum of its phases instead
        timeout = aiohttp.ClientTimeout(total=_sum(pool, connect, write, read), connect=_sum(pool, connect),
                                        sock_connect=connect, sock_read=read)
        data: Any = request_data.json_parameters if request_data is not None else None
        if files:
            form = aiohttp.FormData(data or {})
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data = form
        try:
            proxy, proxy_auth = self._proxy(url)
            async with self._session.request(method, url, data=data, timeout=timeout, proxy=proxy,
                                             proxy_auth=proxy_auth) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut(f"aiohttp: {type(exc).__name__} after the timeout") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
