from alembic import context
from sqlalchemy import create_engine, pool, text

from newsflow.settings import sqlalchemy_url
from newsflow.store.tables import SCHEMA, metadata

url = sqlalchemy_url(context.config.attributes["database_url"])

if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, version_table_schema=SCHEMA)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=SCHEMA,
            include_schemas=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
