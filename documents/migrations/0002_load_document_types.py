"""Load the 29 Decree 30/2020 document types (Art. 7) with their PL III abbreviations."""

from django.db import migrations

from documents.doctypes import DECREE_30_TYPES


def load_types(apps, schema_editor):
    DocumentType = apps.get_model("documents", "DocumentType")
    for order, (code, name, abbreviation) in enumerate(DECREE_30_TYPES, start=1):
        DocumentType.objects.update_or_create(
            code=code, defaults={"name": name, "abbreviation": abbreviation, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(load_types, migrations.RunPython.noop)]
