"""Alembic environment: runs migrations against the URL the bot hands over."""

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config

# APScheduler creates and owns its job table; migrations must never touch it.
SCHEDULER_TABLES = {"apscheduler_jobs"}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name in SCHEDULER_TABLES)

url = config.attributes.get("sqlalchemy_url") or config.get_main_option("sqlalchemy.url")


def run_offline() -> None:
    context.configure(url=url, target_metadata=SQLModel.metadata, literal_binds=True,
                      render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=SQLModel.metadata,
                          render_as_batch=True, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
