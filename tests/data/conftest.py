"""Fixtures of the store tests: a fresh store on SQLite (always) and PostgreSQL (when
``TRADECAST_TEST_POSTGRES_URL`` is set), each PostgreSQL test in its own schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from data import Store
from tests.postgres import temporary_schema

PG_ENV = "TRADECAST_TEST_POSTGRES_URL"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Target:
    """Where a store lives: URL plus PostgreSQL schema ('' for SQLite)."""

    backend: str
    url: str
    schema: str = ""

    def open(self) -> Store:
        kwargs = {"connect_args": {"options": f"-csearch_path={self.schema}"}} if self.schema else {}
        return Store.from_url(self.url, **kwargs)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """An empty store location with the schema created, on each backend."""
    if request.param == "sqlite":
        t = Target("sqlite", f"sqlite:///{tmp_path / 'store.db'}")
        store = t.open()
        store.create_schema()
        store.dispose()
        yield t
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    with temporary_schema(url, "tc_test") as schema:
        t = Target("postgres", url, schema)
        store = t.open()
        store.create_schema()
        store.dispose()
        yield t


@pytest.fixture
def store(target: Target) -> Iterator[Store]:
    """An empty store with its schema, on SQLite and (when configured) PostgreSQL."""
    s = target.open()
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """An empty SQLite store (for tests that need no PostgreSQL twin)."""
    s = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    s.create_schema()
    yield s
    s.dispose()
