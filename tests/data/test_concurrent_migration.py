"""Several service instances migrating one empty PostgreSQL database at the same moment."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests.data.conftest import PG_ENV, Target
from tests.postgres import temporary_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_schema() -> Iterator[Target]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    with temporary_schema(url, "tc_mig") as schema:
        yield Target("postgres", url, schema)


def test_instances_migrating_at_once_all_start_and_migrate_once(empty_schema: Target) -> None:
    stores = [empty_schema.open() for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def migrate(store: object) -> None:
        try:
            barrier.wait()
            store.create_schema()  # type: ignore[attr-defined]
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not any(t.is_alive() for t in threads), "a migration is stuck behind another"
        assert errors == []
        with stores[0].db.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(versions) == 1
    finally:
        for store in stores:
            store.dispose()
