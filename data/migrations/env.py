"""Alembic environment of the store: one history for every table of the product.

``Store.create_schema()`` passes an open connection in ``config.attributes["connection"]``.
The ``alembic`` command line takes the database URL from ``-x url=...`` or else from
``sqlalchemy.url`` in ``alembic.ini`` (default: :data:`data.db.DEFAULT_DATABASE_URL`);
it reads no settings and no environment variables.
"""

from __future__ import annotations

import logging.config

from alembic import context
from sqlalchemy import Connection

from data.db import DEFAULT_DATABASE_URL, WRITE, create_store_engine
from data.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """The URL given with ``-x url=...``, else ``sqlalchemy.url`` of the ini file."""
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url", DEFAULT_DATABASE_URL
    )


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
    engine = create_store_engine(database_url())
    try:
        with engine.connect() as conn:
            _run(conn.execution_options(**{WRITE: True}))
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
