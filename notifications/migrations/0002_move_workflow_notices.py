"""Move the reminders workflows stored (workflows.Notice, a sentence per person) here, before workflows drops
its table: each becomes a processed event of the "notifications.legacy" kind with one notice, read or unread
as it was, linking to its document or draft."""

from django.db import migrations


def move(apps, schema_editor):
    try:
        Old = apps.get_model("workflows", "Notice")
    except LookupError:
        return
    NoticeEvent = apps.get_model("notifications", "NoticeEvent")
    Notice = apps.get_model("notifications", "Notice")
    for old in Old.objects.order_by("pk").iterator():
        parts = old.key.split(":")
        if old.document_id:
            url = f"/documents/{old.document_id}/"
        elif len(parts) > 1 and parts[0] == "draft" and parts[1].isdigit():
            url = f"/work/drafts/{parts[1]}/"
        else:
            url = ""
        event, _created = NoticeEvent.objects.get_or_create(key=f"legacy:{old.pk}", defaults={
            "kind": "notifications.legacy", "audience": {"user_ids": [old.user_id]}, "params": {"text": old.text},
            "url": url, "document_id": old.document_id, "processed_at": old.created_at,
        })
        notice, _created = Notice.objects.get_or_create(user_id=old.user_id, event=event, defaults={
            "kind": "notifications.legacy", "params": {"text": old.text}, "url": url,
            "document_id": old.document_id, "read_at": old.read_at,
        })
        Notice.objects.filter(pk=notice.pk).update(created_at=old.created_at)  # auto_now_add set it to now


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("workflows", "0004_draft_attachment"),
    ]
    run_before = [("workflows", "0005_delete_notice")]

    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
