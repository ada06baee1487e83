"""Signing requests point at the blob they sign and an opaque subject, no longer at workflows' drafts."""

import django.db.models.deletion
from django.db import migrations, models


def from_drafts(apps, schema_editor):
    SigningRequest = apps.get_model("signatures", "SigningRequest")
    for request in SigningRequest.objects.select_related("draft", "source_version", "requested_by").iterator():
        draft, version = request.draft, request.source_version
        request.key = f"workflows.draftversion:{version.pk}:{request.kind}"
        request.subject_type, request.subject_id = "workflows.draft", draft.pk
        request.subject_label = draft.subject[:300]
        request.agency_id, request.source_blob_id = draft.agency_id, version.blob_id
        request.signer_name = (request.requested_by.full_name or request.requested_by.username)[:200]
        if request.kind == "seal":
            request.attachments = [{"sha256": a.blob_id, "name": a.file_name} for a in draft.attachments.all()]
        request.save()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("documents", "0005_agency_direction_order_index"),
        ("signatures", "0001_initial"),
        ("workflows", "0004_draft_attachment"),
    ]

    operations = [
        migrations.AddField("signingrequest", "key", models.CharField(max_length=150, null=True,
                                                                      verbose_name="idempotency key")),
        migrations.AddField("signingrequest", "subject_type", models.CharField(default="", max_length=100,
                                                                               verbose_name="subject type"),
                            preserve_default=False),
        migrations.AddField("signingrequest", "subject_id", models.PositiveBigIntegerField(null=True,
                                                                                           verbose_name="subject id")),
        migrations.AddField("signingrequest", "subject_label", models.CharField(blank=True, max_length=300,
                                                                                verbose_name="subject")),
        migrations.AddField("signingrequest", "agency", models.ForeignKey(
            null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.agency",
            verbose_name="agency")),
        migrations.AddField("signingrequest", "source_blob", models.ForeignKey(
            null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="documents.fileblob",
            verbose_name="file signed")),
        migrations.AddField("signingrequest", "signer_name", models.CharField(
            blank=True, max_length=200, verbose_name="name shown under the signature")),
        migrations.AddField("signingrequest", "attachments", models.JSONField(blank=True, default=list,
                                                                              verbose_name="attachments")),
        migrations.AddField("signingrequest", "result_attachments", models.JSONField(blank=True, default=list)),
        migrations.RunPython(from_drafts, migrations.RunPython.noop),
        migrations.RemoveConstraint("signingrequest", "sig_request_once_per_version"),
        migrations.RemoveField("signingrequest", "draft"),
        migrations.RemoveField("signingrequest", "source_version"),
        migrations.AlterField("signingrequest", "key", models.CharField(max_length=150, unique=True,
                                                                        verbose_name="idempotency key")),
        migrations.AlterField("signingrequest", "subject_id", models.PositiveBigIntegerField(verbose_name="subject id")),
        migrations.AlterField("signingrequest", "agency", models.ForeignKey(
            on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.agency",
            verbose_name="agency")),
        migrations.AlterField("signingrequest", "source_blob", models.ForeignKey(
            on_delete=django.db.models.deletion.PROTECT, related_name="+", to="documents.fileblob",
            verbose_name="file signed")),
        migrations.AlterField("signingrequest", "kind", models.CharField(
            choices=[("personal", "Leader's signature"), ("seal", "Number, date and agency seal"),
                     ("attachment", "Agency signature of an attachment")], max_length=10, verbose_name="kind")),
        migrations.AddIndex("signingrequest", models.Index(fields=["subject_type", "subject_id"],
                                                           name="sig_request_subject_idx")),
        migrations.CreateModel(
            name="SignaturePlacement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("signer_name", models.CharField(blank=True, max_length=200)),
                ("boxes", models.JSONField(default=dict)),
                ("found", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("blob", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                           to="documents.fileblob")),
            ],
            options={"constraints": [models.UniqueConstraint(fields=("blob", "signer_name"),
                                                             name="sig_placement_unique")]},
        ),
    ]
