"""A throw-away PostgreSQL schema for the tests that need a real database.

Every PostgreSQL test works in its own schema on ``TRADECAST_TEST_POSTGRES_URL`` (created
here, dropped with everything in it afterwards), so tests and test runs never see each
other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from sqlalchemy import create_engine


@contextmanager
def temporary_schema(url: str, prefix: str) -> Iterator[str]:
    """Create a schema named ``<prefix>_<pid>_<random>`` on ``url``; yield its name; drop it."""
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def schema_url(url: str, schema: str) -> str:
    """``url`` with ``schema`` as its search path (what ``TRADECAST_DATABASE_URL`` takes)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
