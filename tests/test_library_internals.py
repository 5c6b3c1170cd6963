"""The libraries' internals our code relies on, in one table, each checked to still exist.

A library's private attribute can go in any release, silently: the code then fails at its first turn, or worse
under load only. pyproject.toml bounds each such library below its next minor release; when one is raised (or
the lock file moves), this test says, by name, what is gone and which of our modules to read before fixing it.
The modules' docstrings point here; add a row whenever code starts relying on another internal.
"""

from __future__ import annotations

import importlib
import inspect
import re
from importlib.metadata import version
from typing import Any

import pytest

# (our module, the library's distribution, where the internal lives, the attribute)
INTERNALS: list[tuple[str, str, str, str]] = [
    # the asyncpg adapter: its lazily begun transaction, its execute lock, its error translation
    *[("storage/fast/driver.py", "SQLAlchemy",
       "sqlalchemy.dialects.postgresql.asyncpg.AsyncAdapt_asyncpg_connection", name)
      for name in ("_connection", "_transaction", "_start_transaction", "_call_and_discard", "_execute_mutex",
                   "_handle_exception", "isolation_level", "readonly", "deferrable")],
    *[("storage/fast/driver.py", "SQLAlchemy",
       "sqlalchemy.dialects.sqlite.aiosqlite.AsyncAdapt_aiosqlite_connection", name)
      for name in ("_connection", "_execute_mutex", "_handle_exception")],
    # attach_loaded: a row put in the identity map as loading does
    ("storage/fast/driver.py", "SQLAlchemy", "sqlalchemy.orm.identity.IdentityMap", "_add_unpresent"),
    ("storage/fast/driver.py", "SQLAlchemy", "sqlalchemy.orm.instrumentation.ClassManager", "new_instance"),
    ("storage/fast/driver.py", "SQLAlchemy", "sqlalchemy.orm.session.Session", "hash_key"),
    *[("storage/fast/driver.py", "SQLAlchemy", "sqlalchemy.orm.state.InstanceState", name)
      for name in ("key", "identity_token", "session_id")],
    # the changed rows written without the unit of work, then marked committed
    ("storage/fast/writes.py", "SQLAlchemy", "sqlalchemy.orm.state.InstanceState", "_commit_all"),
    ("storage/fast/writes.py", "SQLAlchemy", "sqlalchemy.orm.state.InstanceState", "committed_state"),
    # aiosqlite's connection without its thread
    *[("storage/fast/sqlite_inline.py", "aiosqlite", "aiosqlite.Connection", name)
      for name in ("_tx", "_execute", "_running", "_connection", "_connector", "_connect", "stop")],
    # python-telegram-bot over aiohttp
    ("bot/handlers/telegram_http.py", "python-telegram-bot", "telegram.request.BaseRequest", "DEFAULT_NONE"),
    ("bot/handlers/telegram_http.py", "python-telegram-bot", "telegram.request.BaseRequest", "USER_AGENT"),
    ("bot/handlers/telegram_http.py", "python-telegram-bot", "telegram.request.BaseRequest", "do_request"),
    ("bot/handlers/telegram_http.py", "aiohttp", "aiohttp.helpers", "get_env_proxy_for_url"),
    # uvicorn's server without its signal handling
    ("bot/service/web.py", "uvicorn", "uvicorn.Server", "capture_signals"),
]


def _resolve(path: str) -> Any:
    """The module or class at a dotted path (a module, then attributes of it)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(path)


def _has(owner: Any, name: str) -> bool:
    """On the class or module, or (an attribute its instances get) assigned as `self.<name>` in its class's code."""
    if hasattr(owner, name):
        return True
    if not inspect.isclass(owner):
        return False
    assigned = re.compile(rf"\bself\.{re.escape(name)}\b\s*(:[^=\n]*)?=")
    for cls in owner.__mro__:
        try:
            source = inspect.getsource(cls)
        except (OSError, TypeError):
            continue
        if assigned.search(source):
            return True
    return False


@pytest.mark.parametrize(("user", "library", "owner", "name"), INTERNALS,
                         ids=[f"{owner.rsplit('.', 1)[-1]}.{name}" for _, _, owner, name in INTERNALS])
def test_an_internal_we_rely_on_is_still_there(user: str, library: str, owner: str, name: str) -> None:
    gone = f"{user} relies on {owner}.{name}; it is gone in {library} {version(library)}: see {user}'s docstring"
    try:
        found = _resolve(owner)
    except (ImportError, AttributeError):
        pytest.fail(f"{user} relies on {owner}; it is gone in {library} {version(library)}: see {user}'s docstring")
    assert _has(found, name), gone


def test_the_not_given_default_is_still_its_own_class() -> None:
    """telegram_http.py tells "not given" from None by the class of BaseRequest.DEFAULT_NONE."""
    from telegram.request import BaseRequest

    assert type(BaseRequest.DEFAULT_NONE) is not type(None) and BaseRequest.DEFAULT_NONE.value is None, (
        "bot/handlers/telegram_http.py relies on BaseRequest.DEFAULT_NONE being a DefaultValue (not None); it changed "
        f"in python-telegram-bot {version('python-telegram-bot')}: see bot/handlers/telegram_http.py's docstring")


def test_aiosqlite_connection_is_still_built_from_a_connector() -> None:
    """sqlite_inline.InlineConnection calls aiosqlite.Connection(connector, iter_chunk_size=...)."""
    import aiosqlite

    parameters = inspect.signature(aiosqlite.Connection.__init__).parameters
    assert {"connector", "iter_chunk_size"} <= set(parameters), (
        "storage/fast/sqlite_inline.py relies on aiosqlite.Connection(connector, iter_chunk_size); it changed in "
        "aiosqlite "
        f"{version('aiosqlite')}: see storage/fast/sqlite_inline.py's docstring")


def test_every_library_in_the_table_has_an_upper_bound() -> None:
    """pyproject.toml bounds each library whose internals we use, so an upgrade past what was checked is chosen."""
    import tomllib
    from pathlib import Path

    dependencies = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["dependencies"]
    for library in {library for _, library, _, _ in INTERNALS}:
        declared = [d for d in dependencies
                    if re.match(rf"{re.escape(library)}\b(\[[^]]*\])?\s*[<>=!~]", d, re.IGNORECASE)]
        assert declared and "<" in declared[0], f"pyproject.toml: {library} needs an upper bound (see INTERNALS)"
