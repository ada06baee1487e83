"""The word index, which the ORM does not model (search/backends.py reads and writes it):
PostgreSQL: tsvector columns, a GIN index over the words and pg_trgm indexes for notations and names;
SQLite: an FTS5 table whose rowid is the entry's id. The statements are search.backends.SCHEMA (idempotent)."""

from django.db import migrations

from search.backends import DROP_SCHEMA, SCHEMA


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(_run(SCHEMA), _run(DROP_SCHEMA))]
