"""On PostgreSQL, a trigram index for the list's text filter (`search_text LIKE '%…%'`).

Needs the pg_trgm extension; where the migrating role may not create it and it is not installed, the
index is skipped with a warning (searching still works, only slower). SQLite: nothing to do."""

import warnings

from django.db import migrations


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        installed = cursor.fetchone() is not None
        if not installed:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            if not (row and row[0]):
                warnings.warn("pg_trgm is not installed and cannot be created: text search runs without an index.")
                return
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS doc_search_trgm_idx ON documents_document "
            "USING gin (search_text gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS doc_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_load_document_types")]

    operations = [migrations.RunPython(create_index, drop_index)]
