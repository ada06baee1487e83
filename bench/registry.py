#!/usr/bin/env python
"""Registry benchmark on PostgreSQL: list latency per role and concurrent registration throughput.

    .venv/bin/python bench/registry.py            # fill once (about two minutes), then measure
    .venv/bin/python bench/registry.py --refill   # drop the bench database and fill it again

Fills DATABASE_URL (default postgres://postgres@127.0.0.1:5432/eoffice_bench; created and migrated if
missing) with 200,000 documents of 60 agencies and 5,000 people, with grants like a province's: a few
percent of documents shared with people or working groups of other agencies, secret documents granted to
a few people each. Rows are written with COPY, not through the services (those are for correctness and
would take an hour for 200k); numbers stay gapless per register, so the registrations measured afterwards
continue each series. Audit events are not generated for the bulk rows.

Then, for a clerk, a unit leader and a staff member, the server time (median, p95) of the first page of
the web list and of the API list, plain and filtered, and the SQL queries per page; the selector alone
(`document_list(...)[:50]` plus `.count()`); and registrations per second with concurrent writers
(threads with their own connections) on one agency (worst case: one counter row) and on several, checking
that every register touched stays gapless and every audit chain touched verifies.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import threading
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/eoffice_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eoffice.settings")
os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench-media"))
os.environ["DEBUG"] = "0"
# No collectstatic for a benchmark: the manifest storage would refuse to render {% static %} without it.
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no STATIC_ROOT either

MARKER_IDENTIFIER = "000.00.00.H10"
TARGET_P95_MS = 50.0


# --- the database ------------------------------------------------------------------------------------


def ensure_database(url: str, *, drop: bool) -> bool:
    """Create the bench database if it is missing (or drop it first); True if it was (re)created."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    settings = dj_database_url.parse(url)
    if settings["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"The benchmark needs PostgreSQL; DATABASE_URL is {url!r}.")
    name = settings["NAME"]
    conninfo = {"host": settings["HOST"] or None, "port": settings["PORT"] or None, "user": settings["USER"] or None,
                "password": settings["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v is not None}) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if exists and drop:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if not exists or drop:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    return False


def copy_rows(model, rows: Iterable[dict], *, with_pk: bool = False) -> int:
    """COPY dicts of attribute values into the model's table; missing fields take their model default."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(tuple(row[f.attname] if f.attname in row else defaults[f.attname] for f in fields))
            count += 1
    return count


# --- the fill ----------------------------------------------------------------------------------------

DEPARTMENTS = [
    ("Sở Nội vụ", "SNV"), ("Sở Tài chính", "STC"), ("Sở Kế hoạch và Đầu tư", "SKHĐT"),
    ("Sở Giáo dục và Đào tạo", "SGDĐT"), ("Sở Y tế", "SYT"), ("Sở Tư pháp", "STP"), ("Sở Công Thương", "SCT"),
    ("Sở Xây dựng", "SXD"), ("Sở Giao thông vận tải", "SGTVT"), ("Sở Nông nghiệp và Phát triển nông thôn", "SNN"),
    ("Sở Tài nguyên và Môi trường", "STNMT"), ("Sở Lao động – Thương binh và Xã hội", "SLĐTBXH"),
    ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL"), ("Sở Khoa học và Công nghệ", "SKHCN"),
    ("Sở Thông tin và Truyền thông", "STTTT"), ("Thanh tra tỉnh", "TTr"), ("Ban Dân tộc", "BDT"),
    ("Ban Quản lý các khu công nghiệp", "BQLKCN"), ("Đài Phát thanh và Truyền hình", "ĐPTTH"), ("Sở Ngoại vụ", "SNgV"),
]
DISTRICTS = ["thành phố Hòa Bình", "huyện Lạc Sơn", "huyện Mai Châu", "huyện Tân Lạc", "huyện Cao Phong",
             "huyện Kim Bôi", "huyện Lương Sơn", "huyện Yên Thủy"]
COMMUNES = ["Ân Nghĩa", "Yên Nghiệp", "Tân Lập", "Chiềng Châu", "Vạn Mai", "Pà Cò", "Mỹ Thành", "Văn Sơn",
            "Quyết Thắng", "Nhân Nghĩa", "Bình Hẻm", "Tuân Đạo", "Phong Phú", "Mãn Đức", "Thanh Hối", "Bắc Phong",
            "Thu Phong", "Tân Phong", "Hợp Tiến", "Nam Thượng", "Sơn Thủy", "Liên Sơn", "Cao Dương", "Hòa Sơn",
            "Ngọc Lương", "Yên Trị", "Đa Phúc", "Bảo Hiệu", "Lạc Thịnh", "Hữu Lợi"]
EXTERNAL = [("Văn phòng Chính phủ", "000.00.00.G01", "VPCP"), ("Bộ Nội vụ", "000.00.00.G09", "BNV"),
            ("Bộ Tài chính", "000.00.00.G12", "BTC"), ("Bộ Y tế", "000.00.00.G18", "BYT"),
            ("Bộ Giáo dục và Đào tạo", "000.00.00.G08", "BGDĐT")]
UNIT_NAMES = [("VP", "Văn phòng"), ("TCCB", "Phòng Tổ chức cán bộ"), ("TH", "Phòng Tổng hợp"),
              ("NV1", "Phòng Nghiệp vụ 1"), ("NV2", "Phòng Nghiệp vụ 2")]
GIVEN = ["Văn An", "Thị Bình", "Đức Cường", "Thị Dung", "Minh Hải", "Thu Hà", "Quang Huy", "Thị Lan", "Văn Long",
         "Thị Mai", "Hoàng Nam", "Thị Ngọc", "Văn Phúc", "Thanh Tâm", "Văn Thắng", "Thị Thủy", "Anh Tuấn", "Hải Yến"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Bùi", "Đinh", "Quách", "Hà", "Vũ", "Đỗ", "Ngô", "Xa", "Lò"]


def fill(total_documents: int, total_users: int, rng: random.Random) -> None:
    """Agencies, units, people, registers, documents (COPY), recipients, files and grants, in one transaction."""
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts import roles
    from accounts.models import Agency, AgencyKind, Unit, User
    from demo.documents import sample_pdf
    from demo.plan import SUBJECTS, TOPICS
    from documents.models import (
        Confidentiality,
        Direction,
        Document,
        DocumentFile,
        DocumentGroupObjectPermission,
        DocumentRecipient,
        DocumentType,
        DocumentUserObjectPermission,
        Register,
        RegisterKind,
    )
    from documents.selectors import view_permission_id
    from documents.services import REGISTER_NAMES
    from documents.storage import store_blob
    from documents.text import normalize_vietnamese
    from documents.uploads import check_upload

    started = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate()
    first_day = date(today.year - 1, 1, 2)
    span_days = (today - first_day).days
    tz = timezone.get_current_timezone()

    with transaction.atomic():
        # Agencies: the committee, its office, 20 departments, 8 districts, 30 communes.
        specs = [("Ủy ban nhân dân tỉnh Hòa Bình", "UBND", AgencyKind.PROVINCE_COMMITTEE, None),
                 ("Văn phòng UBND tỉnh Hòa Bình", "VP", AgencyKind.PROVINCE_BODY, 0)]
        specs += [(f"{name} tỉnh Hòa Bình", abbr, AgencyKind.PROVINCE_BODY, 0) for name, abbr in DEPARTMENTS]
        specs += [(f"Ủy ban nhân dân {name}", "UBND", AgencyKind.DISTRICT_COMMITTEE, 0) for name in DISTRICTS]
        first_district = len(specs) - len(DISTRICTS)
        specs += [(f"Ủy ban nhân dân xã {name}", "UBND", AgencyKind.COMMUNE_COMMITTEE, first_district + i % len(DISTRICTS))
                  for i, name in enumerate(COMMUNES)]
        agencies: list[Agency] = []
        for index, (name, abbreviation, kind, parent) in enumerate(specs):
            agencies.append(Agency.objects.create(
                name=name, abbreviation=abbreviation, kind=kind, parent=agencies[parent] if parent is not None else None,
                identifier=MARKER_IDENTIFIER if index == 0 else f"000.{index // 100:02d}.{index % 100:02d}.H10",
                place_name="Hòa Bình",
            ))
        big = {AgencyKind.PROVINCE_COMMITTEE, AgencyKind.PROVINCE_BODY, AgencyKind.DISTRICT_COMMITTEE}
        units = {a.pk: Unit.objects.bulk_create([Unit(agency=a, abbreviation=abbr, name=name) for abbr, name in
                                                 UNIT_NAMES[: 5 if a.kind in big else 3]]) for a in agencies}

        # People: big agencies 150 (the committee 300), communes share the rest.
        sizes = [300 if a.kind == AgencyKind.PROVINCE_COMMITTEE else 150 if a.kind in big else 0 for a in agencies]
        communes = [i for i, a in enumerate(agencies) if a.kind == AgencyKind.COMMUNE_COMMITTEE]
        rest = max(total_users - sum(sizes), 3 * len(communes))
        for n, i in enumerate(communes):
            sizes[i] = rest // len(communes) + (1 if n < rest % len(communes) else 0)
        groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLE_PERMISSIONS)}
        people: list[User] = []
        person_roles: list[str] = []
        for agency, size in zip(agencies, sizes, strict=True):
            agency_units = units[agency.pk]
            plan = ([roles.AGENCY_LEADER] * min(4, 1 + size // 50) + [roles.CLERK] * max(2, size * 3 // 100)
                    + [roles.ARCHIVIST] * max(1, size // 100) + [roles.UNIT_LEADER] * len(agency_units)
                    + [roles.ADMINISTRATOR] * (1 if size >= 50 else 0))
            plan += [roles.STAFF] * max(0, size - len(plan))
            for role in plan:
                n = len(people)
                people.append(User(
                    username=f"u{n:05d}", full_name=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                    email=f"u{n:05d}@hoabinh.example", agency=agency, password="!bench",
                    unit=None if role == roles.AGENCY_LEADER else rng.choice(agency_units), position=role,
                    date_joined=now,
                ))
                person_roles.append(role)
        User.objects.bulk_create(people, batch_size=2000)
        Membership = User.groups.through
        Membership.objects.bulk_create(
            [Membership(user_id=p.pk, group_id=groups[r].pk) for p, r in zip(people, person_roles, strict=True)],
            batch_size=5000,
        )
        by_agency: dict[int, dict[str, list[User]]] = defaultdict(lambda: defaultdict(list))
        for person, role in zip(people, person_roles, strict=True):
            by_agency[person.agency_id][role].append(person)
        leaders = [p for p, r in zip(people, person_roles, strict=True) if r in (roles.AGENCY_LEADER, roles.UNIT_LEADER)]

        # Working groups across agencies (Ban chỉ đạo, tổ công tác): the other way documents are shared.
        work_groups = [Group.objects.create(name=f"Tổ công tác liên ngành {n:02d}") for n in range(1, 31)]
        Membership.objects.bulk_create([
            Membership(user_id=p.pk, group_id=g.pk)
            for g in work_groups for p in rng.sample(people, rng.randint(10, 60))
        ], ignore_conflicts=True)

        registers: dict[tuple[int, str, int], Register] = {}
        for agency in agencies:
            for year in (today.year - 1, today.year):
                for kind in (RegisterKind.OUTGOING, RegisterKind.INCOMING, RegisterKind.SECRET_OUTGOING,
                             RegisterKind.SECRET_INCOMING):
                    registers[(agency.pk, kind, year)] = Register(agency=agency, kind=kind, year=year,
                                                                  name=REGISTER_NAMES[kind])
        Register.objects.bulk_create(registers.values())

        types = {t.code: t for t in DocumentType.objects.all()}
        outgoing_types = [("cong-van", 40), ("quyet-dinh", 20), ("bao-cao", 10), ("ke-hoach", 8), ("thong-bao", 8),
                          ("to-trinh", 6), ("giay-moi", 8)]
        out_codes, out_weights = zip(*outgoing_types, strict=True)
        areas = list(TOPICS)
        blob = store_blob(check_upload(SimpleUploadedFile("van-ban.pdf", sample_pdf("VĂN BẢN"), "application/pdf")))

        # Documents per agency: the committee 8 %, the office 3 %, each department 3 %, each district 2.5 %,
        # the communes share the remaining 9 %.
        weights = [8.0 if a.kind == AgencyKind.PROVINCE_COMMITTEE else 3.0 if a.kind == AgencyKind.PROVINCE_BODY
                   else 2.5 if a.kind == AgencyKind.DISTRICT_COMMITTEE else 9.0 / len(communes) for a in agencies]
        scale = total_documents / sum(weights)
        counts = [int(w * scale) for w in weights]
        counts[0] += total_documents - sum(counts)
        next_id = (Document.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        recipients: list[dict] = []
        files: list[dict] = []
        user_grants: list[dict] = []
        group_grants: list[dict] = []
        perm_id = view_permission_id()
        leader_group = groups[roles.AGENCY_LEADER]

        def documents() -> Iterable[dict]:
            nonlocal next_id
            for agency, count, area_index in zip(agencies, counts, range(len(agencies)), strict=True):
                staff = by_agency[agency.pk]
                clerks = staff[roles.CLERK]
                agency_units = units[agency.pk]
                topics = TOPICS[areas[area_index % len(areas)]]
                drafts = []
                for _n in range(count):
                    day = first_day + timedelta(days=rng.randrange(span_days + 1))
                    moment = datetime(day.year, day.month, day.day, rng.randint(7, 16), rng.randrange(60),
                                      rng.randrange(60), tzinfo=tz)
                    roll = rng.random()
                    direction = (Direction.OUTGOING if roll < 0.4 else Direction.INCOMING if roll < 0.9
                                 else Direction.INTERNAL)
                    secret = direction != Direction.INTERNAL and rng.random() < 0.01
                    drafts.append((moment, direction, secret))
                drafts.sort()
                numbers: Counter[tuple[str, int]] = Counter()
                for moment, direction, secret in drafts:
                    day = moment.date()
                    if direction == Direction.INCOMING:
                        kind = RegisterKind.SECRET_INCOMING if secret else RegisterKind.INCOMING
                    else:
                        kind = RegisterKind.SECRET_OUTGOING if secret else RegisterKind.OUTGOING
                    numbers[(kind, day.year)] += 1
                    number = numbers[(kind, day.year)]
                    register = registers[(agency.pk, kind, day.year)]
                    code = rng.choices(out_codes, out_weights)[0]
                    doc_type = types[code]
                    unit = rng.choice(agency_units)
                    clerk = rng.choice(clerks)
                    subject = rng.choice(SUBJECTS[code]).format(
                        topic=rng.choice(topics), year=day.year, period=f"quý {(day.month - 1) // 3 + 1} năm {day.year}",
                        week=day.isocalendar()[1])
                    row = {
                        "id": next_id, "direction": direction, "agency_id": agency.pk, "register_id": register.pk,
                        "document_type_id": doc_type.pk, "subject": subject, "register_number": number,
                        "urgency": rng.choices((0, 1, 2, 3), (80, 12, 6, 2))[0],
                        "confidentiality": (Confidentiality.SECRET if secret else Confidentiality.NORMAL),
                        "created_by_id": clerk.pk, "created_at": moment.astimezone(UTC), "page_amount": 1,
                        "language": "Tiếng Việt", "signer_name": f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                        "signer_position": "Giám đốc",
                    }
                    if direction == Direction.INCOMING:
                        if rng.random() < 0.6:
                            sender = agencies[rng.randrange(len(agencies))]
                            organ, organ_id, organ_abbr = sender.name, sender.identifier, sender.abbreviation
                        else:
                            organ, organ_id, organ_abbr = rng.choice(EXTERNAL)
                        issued = day - timedelta(days=rng.randint(0, 5))
                        code_number = f"{rng.randint(1, 2500):02d}"
                        notation = f"{doc_type.abbreviation or organ_abbr}-{organ_abbr if doc_type.abbreviation else 'VP'}"
                        row.update(code_number=code_number, code_notation=notation, issued_date=issued,
                                   arrival_date=day, organ_name=organ, organ_id=organ_id,
                                   identifier=f"{organ_id},{issued:%Y/%m/%d},{code_number}/{notation}",
                                   to_places=unit.name, due_date=day + timedelta(days=10) if rng.random() < 0.3 else None)
                    else:
                        notation = (f"{doc_type.abbreviation}-{agency.abbreviation}" if doc_type.abbreviation
                                    else f"{agency.abbreviation}-{unit.abbreviation}")
                        code_number = f"{number:02d}"
                        row.update(code_number=code_number, code_notation=notation, issued_date=day,
                                   organ_name=agency.name, organ_id=agency.identifier, drafting_unit_id=unit.pk,
                                   identifier=f"{agency.identifier},{day:%Y/%m/%d},{code_number}/{notation}",
                                   issued_amount=rng.randint(2, 20))
                        for target in rng.sample(agencies, rng.randint(1, 3)):
                            recipients.append({"document_id": next_id, "agency_id": target.pk, "name": target.name})
                    row["search_text"] = normalize_vietnamese(" ".join(
                        [subject, f"{row['code_number']}/{row['code_notation']}", row["organ_name"], row["identifier"],
                         row["signer_name"]]))
                    files.append({"document_id": next_id, "blob_id": blob.sha256, "original_name": "van-ban.pdf",
                                  "is_main": True, "uploaded_by_id": clerk.pk, "uploaded_at": row["created_at"],
                                  "extraction_status": "done", "page_count": 1})
                    grantees: set[int] = set()
                    if secret:  # the registering clerk (as the service does), the head and a deputy or two
                        grantees |= {clerk.pk} | {p.pk for p in staff[roles.AGENCY_LEADER][: rng.randint(1, 3)]}
                    elif rng.random() < 0.03:  # shared with people of other agencies, mostly leaders
                        grantees |= {p.pk for p in rng.sample(leaders, rng.randint(1, 2)) if p.agency_id != agency.pk}
                        if rng.random() < 0.4:
                            grantees.add(rng.choice(people).pk)
                    elif rng.random() < 0.006:
                        group_grants.append({"permission_id": perm_id, "group_id": rng.choice(work_groups).pk,
                                             "content_object_id": next_id})
                    elif code == "quyet-dinh" and agency.kind == AgencyKind.PROVINCE_COMMITTEE and rng.random() < 0.05:
                        group_grants.append({"permission_id": perm_id, "group_id": leader_group.pk,
                                             "content_object_id": next_id})
                    user_grants.extend({"permission_id": perm_id, "user_id": u, "content_object_id": next_id}
                                       for u in grantees)
                    next_id += 1
                    yield row
                for (kind, year), last in numbers.items():
                    registers[(agency.pk, kind, year)].last_number = last

        written = copy_rows(Document, documents(), with_pk=True)
        Register.objects.bulk_update(registers.values(), ["last_number"])
        copy_rows(DocumentRecipient, recipients)
        copy_rows(DocumentFile, files)
        copy_rows(DocumentUserObjectPermission, user_grants)
        copy_rows(DocumentGroupObjectPermission, group_grants)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM documents_document))",
                           [Document._meta.db_table])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"Filled {written:,} documents, {len(agencies)} agencies, {len(people):,} people, "
          f"{len(recipients):,} recipients, {len(user_grants):,} user grants, {len(group_grants):,} group grants "
          f"in {time.perf_counter() - started:.0f} s.")


def is_filled(total_documents: int) -> bool:
    from accounts.models import Agency
    from documents.models import Document

    return Agency.objects.filter(identifier=MARKER_IDENTIFIER).exists() and Document.objects.count() >= total_documents


# --- measuring ---------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Timer:
    """Runs a callable after warm-up and reports median and p95 in milliseconds, plus its SQL queries."""

    def __init__(self, repeat: int, warmup: int = 5):
        self.repeat = repeat
        self.warmup = warmup
        self.rows: list[tuple[str, float, float, int, float]] = []
        self.slow_sql: dict[str, tuple[float, str]] = {}

    def measure(self, label: str, call: Callable[[], object]) -> tuple[float, float, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for _ in range(self.warmup):
            call()
        times = []
        for _ in range(self.repeat):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as captured:
            call()
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
        if slowest is not None:
            self.slow_sql[label] = (float(slowest["time"]) * 1000, slowest["sql"])
        median, p95 = statistics.median(times), percentile(times, 0.95)
        self.rows.append((label, median, p95, len(captured), float(slowest["time"]) * 1000 if slowest else 0.0))
        flag = "" if p95 <= TARGET_P95_MS else "   > target"
        print(f"  {label:<46} {median:8.1f} {p95:8.1f} {len(captured):8d} {self.rows[-1][4]:10.1f}{flag}", flush=True)
        return median, p95, len(captured)


def pick_people():
    """A clerk of the committee (the largest agency), a unit leader of a department, a staff member of a
    district who belongs to a working group and has direct grants (every branch of the permission rule)."""
    from django.db.models import Count

    from accounts import roles
    from accounts.models import AgencyKind, User
    from documents.models import DocumentUserObjectPermission

    clerk = User.objects.filter(groups__name=roles.CLERK, agency__kind=AgencyKind.PROVINCE_COMMITTEE).order_by("pk")[0]
    unit_leader = User.objects.filter(groups__name=roles.UNIT_LEADER, agency__abbreviation="SNV").order_by("pk")[0]
    granted = DocumentUserObjectPermission.objects.values("user_id").annotate(n=Count("id")).filter(n__gte=2)
    staff = (User.objects.filter(groups__name=roles.STAFF, agency__kind=AgencyKind.DISTRICT_COMMITTEE,
                                 pk__in=granted.values("user_id"))
             .filter(groups__name__startswith="Tổ công tác").order_by("pk").first()
             or User.objects.filter(groups__name=roles.STAFF).order_by("pk")[0])
    return [("clerk", clerk), ("unit leader", unit_leader), ("staff", staff)]


def measure_lists(timer: Timer, people) -> None:
    from django.test import Client

    from documents.models import Direction
    from documents.selectors import document_list, visible_documents

    today = date.today()
    filters = {"direction": Direction.INCOMING, "date_from": date(today.year, 1, 1).isoformat()}
    web_filter = "?direction=incoming&date_from=" + filters["date_from"]
    search = "?q=k%E1%BA%BF+ho%E1%BA%A1ch"  # "kế hoạch"
    print(f"\n  {'':<46} {'median':>8} {'p95':>8} {'queries':>8} {'slowest q':>10}   (ms)")
    for role, user in people:
        client = Client()
        client.force_login(user)
        visible = visible_documents(user).count()
        print(f"{role} {user.username} ({user.agency.name}, {visible:,} documents visible)")

        def get(url: str, client: Client = client) -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            _ = response.content

        for label, url in [("web list /documents/", "/documents/"),
                           ("web list, page 2", "/documents/?page=2"),
                           ("web list filtered (incoming, this year)", "/documents/" + web_filter),
                           ("web list text search", "/documents/" + search),
                           ("api list /api/v1/documents/", "/api/v1/documents/"),
                           ("api list, page 2", "/api/v1/documents/?page=2"),
                           ("api list filtered", "/api/v1/documents/" + web_filter),
                           ("api list text search", "/api/v1/documents/" + search)]:
            if client.get(url).status_code == 404:
                print(f"  {label:<46} (not available yet)")
                continue
            timer.measure(f"{role}: {label}", lambda url=url: get(url))

        def selector(user=user, **kwargs) -> None:
            documents = document_list(user, **kwargs)
            list(documents[:50])
            documents.count()

        timer.measure(f"{role}: selector page + count", selector)
        timer.measure(f"{role}: selector filtered", lambda: selector(direction=filters["direction"],
                                                                     date_from=date.fromisoformat(filters["date_from"])))
        timer.measure(f"{role}: selector text search", lambda: selector(text="kế hoạch"))


class WSGIClient:
    """Calls Django's WSGI handler the way gunicorn does, as `user`: with an API token (how API clients
    call), or logged in with a session cookie (how the browser does).

    Unlike `django.test.Client` (which disconnects `close_old_connections` from the request signals, so
    its connection is never closed between requests), request_started / request_finished fire here:
    CONN_MAX_AGE decides whether each request opens a new database connection, as in production."""

    def __init__(self, user, *, token: bool = False):
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import Client, RequestFactory
        from rest_framework.authtoken.models import Token

        if token:
            self.headers = {"authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
        else:
            login = Client()
            login.force_login(user)
            self.headers = {"cookie": "; ".join(f"{name}={morsel.value}" for name, morsel in login.cookies.items())}
        self.handler = WSGIHandler()
        self.factory = RequestFactory()

    def get(self, url: str) -> bytes:
        environ = self.factory.get(url, headers=self.headers).environ
        status: list[str] = []
        response = self.handler(environ, lambda code, headers, exc_info=None: status.append(code))
        try:
            body = b"".join(response)
        finally:
            response.close()  # request_finished: the connection is closed here when CONN_MAX_AGE is 0
        if not status[0].startswith("200"):
            raise RuntimeError(f"{url} answered {status[0]}")
        return body


_GENERIC_SERIALIZER: list = []


@contextmanager
def generic_list_serializer():
    """The list's rows as before the lean serializer: DRF's generic field-by-field serialization (a
    reverse() per row for `url`) of model instances loaded with every column of the document and of the
    joined agency, register and type."""
    from rest_framework import serializers

    from documents import api
    from documents.serializers import DocumentListSerializer

    if not _GENERIC_SERIALIZER:  # one class for the whole run (a class per request would feed the GC)
        class GenericDocumentListSerializer(DocumentListSerializer):
            prepare = staticmethod(lambda queryset: queryset)
            to_representation = serializers.ModelSerializer.to_representation

        _GENERIC_SERIALIZER.append(GenericDocumentListSerializer)
    saved = api.DocumentListSerializer
    api.DocumentListSerializer = _GENERIC_SERIALIZER[0]
    try:
        yield
    finally:
        api.DocumentListSerializer = saved


@contextmanager
def role_permission_through_has_perm():
    """The selector's role-permission test as before: `user.has_perm`, which loads all the person's
    permissions with two queries when the request has not yet."""
    from documents import selectors

    saved = selectors._has_view_role
    selectors._has_view_role = lambda user, perm_id: user.has_perm("documents.view_document")
    try:
        yield
    finally:
        selectors._has_view_role = saved


def compare_api_first_page(user, role: str, repeat: int) -> list[tuple[str, float, float, int]]:
    """First page of /api/v1/documents/ for a restricted user, with an API token, through the WSGI handler:
    as configured (persistent connection, lean rows, the role permission asked for directly) and with each
    alternative, measured in the same run and interleaved (one request of each variant per round), so that
    load on a shared host hits all alike. Every variant must answer the same bytes.

    Connections are per thread: the persistent variants run in this thread on one connection kept open
    (as a gunicorn worker's), the CONN_MAX_AGE=0 ones in a helper thread whose connection settings say 0,
    so each of its requests opens a new connection (and a new PostgreSQL backend) and closes it."""
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = "/api/v1/documents/"
    configured = settings.DATABASES["default"]["CONN_MAX_AGE"] or 60
    # label, new connection per request, generic serializer, has_perm
    variants = [
        (f"as configured (CONN_MAX_AGE={configured})", False, False, False),
        ("CONN_MAX_AGE=0: a new connection per request", True, False, False),
        ("generic DRF serializer over model instances", False, True, False),
        ("role permission through user.has_perm", False, False, True),
        ("all three: the code before", True, True, True),
    ]
    client = WSGIClient(user, token=True)
    bodies = set()
    times: dict[str, list[float]] = {variant[0]: [] for variant in variants}
    queries: dict[str, int] = {}

    def no_reuse() -> None:
        connection.close()
        connection.settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": 0}  # this thread's only

    def once(label, generic, has_perm) -> None:
        with (generic_list_serializer() if generic else nullcontext(),
              role_permission_through_has_perm() if has_perm else nullcontext()):
            start = time.perf_counter()
            body = client.get(url)
            times[label].append((time.perf_counter() - start) * 1000)
            if label not in queries:
                with CaptureQueriesContext(connection) as captured:
                    client.get(url)
                queries[label] = len(captured)
                bodies.add(body)

    with ThreadPoolExecutor(max_workers=1) as helper:
        helper.submit(no_reuse).result()

        def run(label, new_connection, generic, has_perm) -> None:
            if new_connection:
                helper.submit(once, label, generic, has_perm).result()
            else:
                once(label, generic, has_perm)

        for variant in variants:  # warm-up
            for _ in range(5):
                run(*variant)
        for values in times.values():
            values.clear()
        for _ in range(repeat):
            for variant in variants:
                run(*variant)
        helper.submit(lambda: connection.close()).result()  # the helper thread's own connection
    if len(bodies) != 1:
        raise AssertionError("the variants answered differently")
    print(f"\nAPI first page {url} for a restricted user ({role} {user.username}), with a token, through the "
          f"WSGI handler, {repeat} interleaved rounds (ms):")
    print(f"  {'':<48} {'median':>8} {'p95':>8} {'queries':>8} {'median ×':>9}")
    base = statistics.median(times[variants[0][0]])
    rows = []
    for label, *_flags in variants:
        median, p95 = statistics.median(times[label]), percentile(times[label], 0.95)
        rows.append((label, median, p95, queries[label]))
        print(f"  {label:<48} {median:8.1f} {p95:8.1f} {queries[label]:8d} {median / base:9.2f}", flush=True)
    return rows


def check_query_counts(timer: Timer) -> None:
    """A page must cost a fixed number of queries: page 2 as many as page 1, whatever the rows."""
    counts = {label: queries for label, _m, _p, queries, _s in timer.rows}
    for label, queries in counts.items():
        if label.endswith(", page 2"):
            first = label.replace(", page 2", " /documents/" if "web" in label else " /api/v1/documents/")
            if counts.get(first) not in (None, queries):
                print(f"  QUERY COUNT GROWS: {first} {counts[first]} vs {label} {queries}")
    per_role = defaultdict(dict)
    for label, queries in counts.items():
        role, what = label.split(": ", 1)
        per_role[what][role] = queries
    varying = {what: by_role for what, by_role in per_role.items() if len(set(by_role.values())) > 1}
    print("  Queries per page: constant across pages" + (f"; by role: {varying}" if varying else " and roles") + ".")


def explain_slowest(timer: Timer, top: int) -> None:
    from django.db import connection

    slow = sorted(timer.slow_sql.items(), key=lambda item: -item[1][0])[:top]
    for label, (ms, sql) in slow:
        print(f"\nSlowest query of '{label}' ({ms:.1f} ms):\n{sql[:1500]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print("\n".join(row[0] for row in cursor.fetchall()))


def concurrent_registrations(clerk_ids: list[int], per_writer: int) -> tuple[float, float, float, int]:
    """Each thread (its own connection) registers `per_writer` outgoing documents as its clerk."""
    from django.db import connection

    from accounts.models import User
    from documents import services
    from documents.models import DocumentType

    decision = DocumentType.objects.get(code="quyet-dinh").pk
    started: list[float] = []
    barrier = threading.Barrier(len(clerk_ids), action=lambda: started.append(time.perf_counter()))
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(clerk_id: int) -> None:
        try:
            clerk = User.objects.select_related("agency").get(pk=clerk_id)
            clerk.has_perm("documents.register_outgoing")  # load the role permissions before the clock starts
            mine = []
            barrier.wait()
            for n in range(per_writer):
                start = time.perf_counter()
                services.register_outgoing(clerk, services.OutgoingInput(
                    document_type_id=decision, subject=f"Về việc thử tải đăng ký văn bản số {n}",
                    signer_name="Nguyễn Văn An", signer_position="Giám đốc"))
                mine.append((time.perf_counter() - start) * 1000)
            with lock:
                latencies.extend(mine)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(clerk_id,)) for clerk_id in clerk_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    elapsed = time.perf_counter() - started[0]
    return len(latencies) / elapsed, statistics.median(latencies), percentile(latencies, 0.95), len(latencies)


def check_registers(agency_ids: list[int]) -> str:
    """Every register of these agencies holds 1..last_number exactly once; their audit chains verify."""
    from audit.services import chain_key, verify_chain
    from documents.models import Document, Register

    checked = 0
    for register in Register.objects.filter(agency_id__in=agency_ids, last_number__gt=0):
        numbers = list(Document.objects.filter(register=register).order_by("register_number")
                       .values_list("register_number", flat=True))
        if numbers != list(range(1, register.last_number + 1)):
            missing = sorted(set(range(1, register.last_number + 1)) - set(numbers))[:10]
            dupes = [n for n, c in Counter(numbers).items() if c > 1][:10]
            raise AssertionError(f"register {register.pk}: gaps {missing} duplicates {dupes}")
        checked += 1
    for agency_id in agency_ids:
        if broken := verify_chain(chain_key(agency_id)):
            raise AssertionError(f"audit chain broken: {broken}")
    return f"{checked} registers gapless, {len(agency_ids)} audit chains intact"


def measure_writes(writers: int, per_writer: int) -> None:
    from accounts import roles
    from accounts.models import AgencyKind, User

    committee_clerks = list(User.objects.filter(groups__name=roles.CLERK, agency__kind=AgencyKind.PROVINCE_COMMITTEE)
                            .order_by("pk").values_list("pk", "agency_id"))
    same = [committee_clerks[i % len(committee_clerks)][0] for i in range(writers)]
    per_agency: dict[int, int] = {}
    for pk, agency_id in User.objects.filter(groups__name=roles.CLERK, agency__kind=AgencyKind.PROVINCE_BODY).order_by(
            "pk").values_list("pk", "agency_id"):
        per_agency.setdefault(agency_id, pk)
    different = list(per_agency.values())[:writers]
    print(f"\nRegistrations with {writers} concurrent writers ({per_writer} each, own connections):")
    for label, clerk_ids in [("1 writer (baseline)", same[:1]), ("one agency (one counter row)", same),
                             (f"{len(different)} agencies", different)]:
        rate, median, p95, count = concurrent_registrations(clerk_ids, per_writer)
        agencies = sorted(set(User.objects.filter(pk__in=clerk_ids).values_list("agency_id", flat=True)))
        print(f"  {label:<32} {rate:7.1f} registrations/s  (latency median {median:.1f} ms, p95 {p95:.1f} ms, "
              f"{count} documents); {check_registers(agencies)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refill", action="store_true", help="drop the bench database and fill it again")
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=50, help="timed repetitions per measurement")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=50)
    parser.add_argument("--explain", type=int, default=3, help="EXPLAIN ANALYZE the N slowest queries")
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--api-first-page-only", action="store_true",
                        help="only the comparison of the API's first page for the restricted user")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    ensure_database(url, drop=args.refill)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not is_filled(args.documents):
        from accounts.models import Agency

        if Agency.objects.exists():  # a fill that did not finish, or other data: start from scratch
            connection.close()
            ensure_database(url, drop=True)
            call_command("migrate", verbosity=0)
        fill(args.documents, args.users, random.Random(2020))
    else:
        from documents.models import Document

        print(f"Bench data present: {Document.objects.count():,} documents (--documents applies to a fill: "
              "use --refill, or another DATABASE_URL, for another size).")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"\n{date.today()} · PostgreSQL {server.split()[0]} · Python {platform.python_version()} · "
          f"{os.cpu_count()} CPUs · {platform.machine()} · target p95 ≤ {TARGET_P95_MS:.0f} ms")
    people = pick_people()
    restricted_role, restricted = people[-1]  # the district staff member: every branch of the permission rule
    compare_api_first_page(restricted, restricted_role, args.repeat)
    if args.api_first_page_only:
        return
    timer = Timer(args.repeat)
    print("\nDocument lists, selectors as they are:")
    measure_lists(timer, people)
    check_query_counts(timer)
    if args.explain:
        explain_slowest(timer, args.explain)
    if not args.skip_writes:
        measure_writes(args.writers, args.per_writer)


if __name__ == "__main__":
    main()
