"""Test-only reader and writer of the database of tests/test_exchange_faults.py (run as a subprocess with that
test's DATABASE_URL), printing JSON:

    python tests/exchange_fault_probe.py setup N   # a sending agency and clerk, N agencies with a clerk each

(The test reads the state it asserts on with plain SQL: one Django process per look would cost seconds.)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo12345"


def setup(count: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import Agency, AgencyKind

    user_model = get_user_model()
    clerks = Group.objects.get(name=roles.CLERK)
    password = make_password(PASSWORD)
    sender = Agency.objects.create(name="Sở Thử lỗi", abbreviation="STL", kind=AgencyKind.PROVINCE_BODY,
                                   identifier="H10.777", place_name="Hòa Bình")
    sender_clerk = user_model.objects.create(username="faults.sender", full_name="Văn thư Sở Thử lỗi", agency=sender,
                                             email="faults.sender@example.gov.vn", password=password)
    sender_clerk.groups.add(clerks)
    agencies = Agency.objects.bulk_create([
        Agency(name=f"Cơ quan thử lỗi {i}", abbreviation=f"TL{i}", kind=AgencyKind.OTHER, identifier=f"H10.8{i:04d}",
               place_name="Hòa Bình") for i in range(int(count))])
    people = user_model.objects.bulk_create([
        user_model(username=f"faults.clerk.{a.pk}", full_name=f"Văn thư {a.name}", agency=a,
                   email=f"faults.clerk.{a.pk}@example.gov.vn", password=password) for a in agencies])
    user_model.groups.through.objects.bulk_create(
        [user_model.groups.through(user_id=p.pk, group_id=clerks.pk) for p in people])
    return {"sender_clerk": sender_clerk.username, "agencies": [a.pk for a in agencies]}


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")
    import django

    django.setup()
    command, *args = argv
    print(json.dumps({"setup": setup}[command](*args)))


if __name__ == "__main__":
    main(sys.argv[1:])
