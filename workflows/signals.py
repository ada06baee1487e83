"""Keep unit groups (the holders of unit-level document grants) in step with people's units.

Listening to the user model instead of calling from accounts keeps the dependency one way
(workflows asks accounts, never the reverse). Only units that already have a group are synced: a
unit gets one the first time a document is directed to it."""

from __future__ import annotations

from django.contrib.auth.models import Group

from accounts.models import Unit

from .services import sync_unit_group, unit_group_name


def remember_previous_unit(sender, instance, **kwargs) -> None:
    previous = sender.objects.filter(pk=instance.pk).values_list("unit_id", flat=True).first() if instance.pk else None
    instance._previous_unit_id = previous


def sync_unit_groups_of_person(sender, instance, **kwargs) -> None:
    unit_ids = {getattr(instance, "_previous_unit_id", None), instance.unit_id} - {None}
    for unit_id in unit_ids:
        if Group.objects.filter(name=unit_group_name(unit_id)).exists():
            unit = Unit.objects.filter(pk=unit_id).first()
            if unit is not None:
                sync_unit_group(unit, prune=True)


def seed_default_chain(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A new agency gets the default review chain at once, so its administrator can see and edit it
    before the first draft is submitted (fixtures loaded raw are left alone)."""
    if created and not raw:
        from .drafting_services import ensure_default_chain

        ensure_default_chain(instance)
