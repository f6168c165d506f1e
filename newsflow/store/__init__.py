"""PostgreSQL: the engine, the tables, the migrations and every SQL statement newsflow runs."""
