"""Alembic environment of the series store.

``Store.create_schema()`` passes an open connection in ``config.attributes["connection"]``;
the ``alembic`` command line builds an engine from ``TRADECAST_DATABASE_URL``.
"""

from __future__ import annotations

import logging.config

from alembic import context
from sqlalchemy import Connection

from data.config import get_settings
from data.db import WRITE, create_store_engine
from data.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_store_engine(get_settings().database_url)
    try:
        with engine.connect() as conn:
            _run(conn.execution_options(**{WRITE: True}))
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=get_settings().database_url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
