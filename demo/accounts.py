"""The demo's organisation (accounts): the Hòa Bình province committee, its departments, two districts and
six communes with their internal units; ~40 people in every role; delegations of signing authority.

Created through the accounts services (each change audited), acted by the administrator `quantri`.
Idempotent: looked up by natural keys (agency identifier, unit abbreviation, username, delegation
parties) and only what is missing is created; passwords of existing accounts are never reset.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from accounts import roles
from accounts import services as account_services
from accounts.models import Agency, AgencyKind, AuthorityPrefix, Delegation, Unit, User

from .context import Context, clock

PROVINCE_IDENTIFIER = "000.00.00.H10"
ADMIN_USERNAME = "quantri"
DEMO_PASSWORD = "demo12345"
# A reserved top-level domain (RFC 2606): demo e-mail can never reach a real mailbox, even if SMTP is set up.
EMAIL_DOMAIN = "hoabinh.example"


# --- the organisation tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencySeed:
    key: str
    name: str
    abbreviation: str
    kind: str
    identifier: str
    parent: str | None
    address: str
    phone: str
    area: str  # topic family of its documents
    leader: tuple[str, str]  # (name, position) of the head, who signs
    deputy: tuple[str, str]
    units: tuple[tuple[str, str], ...]  # (abbreviation, name)


_DEPT_COMMON = (("VP", "Văn phòng"), ("TTr", "Thanh tra"))
_DISTRICT_UNITS = (
    ("VP", "Văn phòng HĐND và UBND"), ("NV", "Phòng Nội vụ"), ("TCKH", "Phòng Tài chính – Kế hoạch"),
    ("GDĐT", "Phòng Giáo dục và Đào tạo"), ("TP", "Phòng Tư pháp"),
)
_COMMUNE_UNITS = (
    ("VPTK", "Văn phòng – Thống kê"), ("TPHT", "Tư pháp – Hộ tịch"), ("ĐCXD", "Địa chính – Xây dựng"),
    ("VHXH", "Văn hóa – Xã hội"),
)
_CITY = "thành phố Hòa Bình, tỉnh Hòa Bình"


def _commune(key: str, name: str, n: int, district: str, dcode: str, leader: str, deputy: str) -> AgencySeed:
    return AgencySeed(
        key, f"Ủy ban nhân dân xã {name}", "UBND", AgencyKind.COMMUNE_COMMITTEE, f"000.{n:02d}.{dcode}.H10", district,
        f"Trụ sở UBND xã {name}, huyện {'Lạc Sơn' if district == 'lacson' else 'Mai Châu'}, tỉnh Hòa Bình",
        f"0218 38{n}{dcode[-1]} 1{n}0", "commune", (leader, "Chủ tịch"), (deputy, "Phó Chủ tịch"), _COMMUNE_UNITS,
    )


AGENCIES: tuple[AgencySeed, ...] = (
    AgencySeed(
        "ubnd", "Ủy ban nhân dân tỉnh Hòa Bình", "UBND", AgencyKind.PROVINCE_COMMITTEE, PROVINCE_IDENTIFIER, None,
        f"Số 1 đường Trần Hưng Đạo, phường Phương Lâm, {_CITY}", "0218 3852 101", "province",
        ("Đinh Quang Minh", "Chủ tịch"), ("Quách Thị Thu Hà", "Phó Chủ tịch"),
        (("TH", "Phòng Tổng hợp"), ("KT", "Phòng Kinh tế"), ("KGVX", "Phòng Khoa giáo – Văn xã"),
         ("NC", "Phòng Nội chính"), ("HCTC", "Phòng Hành chính – Tổ chức")),
    ),
    AgencySeed(
        "vp", "Văn phòng Ủy ban nhân dân tỉnh Hòa Bình", "VP", AgencyKind.PROVINCE_BODY, "000.00.01.H10", "ubnd",
        f"Số 1 đường Trần Hưng Đạo, phường Phương Lâm, {_CITY}", "0218 3852 102", "office",
        ("Lò Văn Hải", "Chánh Văn phòng"), ("Nguyễn Thị Bích", "Phó Chánh Văn phòng"),
        (("HCTC", "Phòng Hành chính – Tổ chức"), ("QTTV", "Phòng Quản trị – Tài vụ"),
         ("TTTT", "Trung tâm Thông tin – Công báo"), ("TTHCC", "Trung tâm Phục vụ hành chính công")),
    ),
    AgencySeed(
        "snv", "Sở Nội vụ tỉnh Hòa Bình", "SNV", AgencyKind.PROVINCE_BODY, "000.00.02.H10", "ubnd",
        f"Số 8 đường An Dương Vương, phường Phương Lâm, {_CITY}", "0218 3852 201", "home",
        ("Xa Văn Thành", "Giám đốc"), ("Vũ Thị Lan", "Phó Giám đốc"),
        _DEPT_COMMON + (("TCCB", "Phòng Tổ chức cán bộ"), ("CCVC", "Phòng Công chức, viên chức"),
                        ("XDCQ", "Phòng Xây dựng chính quyền"), ("CCHC", "Phòng Cải cách hành chính")),
    ),
    AgencySeed(
        "stc", "Sở Tài chính tỉnh Hòa Bình", "STC", AgencyKind.PROVINCE_BODY, "000.00.03.H10", "ubnd",
        f"Số 12 đường Trần Hưng Đạo, phường Quỳnh Lâm, {_CITY}", "0218 3852 301", "finance",
        ("Phan Văn Cường", "Giám đốc"), ("Đoàn Thị Kim Oanh", "Phó Giám đốc"),
        _DEPT_COMMON + (("QLNS", "Phòng Quản lý ngân sách"), ("TCDN", "Phòng Tài chính doanh nghiệp"),
                        ("QLG", "Phòng Quản lý giá và Công sản")),
    ),
    AgencySeed(
        "skhdt", "Sở Kế hoạch và Đầu tư tỉnh Hòa Bình", "SKHĐT", AgencyKind.PROVINCE_BODY, "000.00.04.H10", "ubnd",
        f"Số 5 đường Chi Lăng, phường Đồng Tiến, {_CITY}", "0218 3852 401", "planning",
        ("Đặng Quốc Việt", "Giám đốc"), ("Trương Minh Khôi", "Phó Giám đốc"),
        _DEPT_COMMON + (("TH", "Phòng Tổng hợp, quy hoạch"), ("ĐKKD", "Phòng Đăng ký kinh doanh"),
                        ("KTĐN", "Phòng Kinh tế đối ngoại")),
    ),
    AgencySeed(
        "sgddt", "Sở Giáo dục và Đào tạo tỉnh Hòa Bình", "SGDĐT", AgencyKind.PROVINCE_BODY, "000.00.05.H10", "ubnd",
        f"Số 20 đường Cù Chính Lan, phường Đồng Tiến, {_CITY}", "0218 3852 501", "education",
        ("Cao Thị Hòa", "Giám đốc"), ("Bùi Văn Lực", "Phó Giám đốc"),
        _DEPT_COMMON + (("TCCB", "Phòng Tổ chức cán bộ"), ("GDTrH", "Phòng Giáo dục Trung học"),
                        ("KTQLCL", "Phòng Khảo thí và Quản lý chất lượng giáo dục")),
    ),
    AgencySeed(
        "syt", "Sở Y tế tỉnh Hòa Bình", "SYT", AgencyKind.PROVINCE_BODY, "000.00.06.H10", "ubnd",
        f"Số 3 đường Lê Thánh Tông, phường Phương Lâm, {_CITY}", "0218 3852 601", "health",
        ("Lương Văn Bình", "Giám đốc"), ("Hoàng Thị Thu", "Phó Giám đốc"),
        _DEPT_COMMON + (("TCCB", "Phòng Tổ chức cán bộ"), ("NVY", "Phòng Nghiệp vụ Y"), ("NVD", "Phòng Nghiệp vụ Dược")),
    ),
    AgencySeed(
        "stp", "Sở Tư pháp tỉnh Hòa Bình", "STP", AgencyKind.PROVINCE_BODY, "000.00.07.H10", "ubnd",
        f"Số 9 đường Cù Chính Lan, phường Phương Lâm, {_CITY}", "0218 3852 701", "justice",
        ("Kiều Minh Đức", "Giám đốc"), ("Nguyễn Thị Thanh", "Phó Giám đốc"),
        _DEPT_COMMON + (("XDKTVB", "Phòng Xây dựng và Kiểm tra văn bản"),
                        ("PBGDPL", "Phòng Phổ biến, giáo dục pháp luật"), ("HCTP", "Phòng Hành chính tư pháp")),
    ),
    AgencySeed(
        "lacson", "Ủy ban nhân dân huyện Lạc Sơn", "UBND", AgencyKind.DISTRICT_COMMITTEE, "000.00.31.H10", "ubnd",
        "Khu 1, thị trấn Vụ Bản, huyện Lạc Sơn, tỉnh Hòa Bình", "0218 3861 101", "district",
        ("Bùi Văn Toàn", "Chủ tịch"), ("Bùi Thị Dung", "Phó Chủ tịch"), _DISTRICT_UNITS,
    ),
    AgencySeed(
        "maichau", "Ủy ban nhân dân huyện Mai Châu", "UBND", AgencyKind.DISTRICT_COMMITTEE, "000.00.32.H10", "ubnd",
        "Tiểu khu 2, thị trấn Mai Châu, huyện Mai Châu, tỉnh Hòa Bình", "0218 3867 101", "district",
        ("Hà Công Chiến", "Chủ tịch"), ("Xa Thị Hoa", "Phó Chủ tịch"), _DISTRICT_UNITS,
    ),
    _commune("annghia", "Ân Nghĩa", 1, "lacson", "31", "Bùi Văn Chung", "Bùi Thị Nhàn"),
    _commune("yennghiep", "Yên Nghiệp", 2, "lacson", "31", "Quách Công Tuấn", "Bùi Văn Sơn"),
    _commune("tanlap", "Tân Lập", 3, "lacson", "31", "Đinh Văn Hiếu", "Bùi Thị Liên"),
    _commune("chiengchau", "Chiềng Châu", 1, "maichau", "32", "Hà Văn Thương", "Lò Thị Nguyệt"),
    _commune("vanmai", "Vạn Mai", 2, "maichau", "32", "Vì Văn Khiêm", "Hà Thị Hằng"),
    _commune("paco", "Pà Cò", 3, "maichau", "32", "Giàng A Chứ", "Thào Thị Mỷ"),
)


@dataclass(frozen=True)
class PersonSeed:
    username: str
    full_name: str
    agency: str
    unit: str | None
    position: str
    role: str
    superuser: bool = False


_S, _UL, _AL, _C, _A, _ADM = (
    roles.STAFF, roles.UNIT_LEADER, roles.AGENCY_LEADER, roles.CLERK, roles.ARCHIVIST, roles.ADMINISTRATOR,
)

PEOPLE: tuple[PersonSeed, ...] = (
    # The province committee: every role, memorable usernames.
    PersonSeed("lanhdao.ubnd", "Đinh Quang Minh", "ubnd", None, "Chủ tịch", _AL),
    PersonSeed("phochutich.ubnd", "Quách Thị Thu Hà", "ubnd", None, "Phó Chủ tịch", _AL),
    PersonSeed("truongphong.ubnd", "Nguyễn Đức Anh", "ubnd", "TH", "Trưởng phòng Tổng hợp", _UL),
    PersonSeed("chuyenvien.ubnd", "Trần Thị Mai", "ubnd", "TH", "Chuyên viên", _S),
    PersonSeed("chuyenvien2.ubnd", "Lê Hoàng Nam", "ubnd", "KT", "Chuyên viên", _S),
    PersonSeed("vanthu.ubnd", "Bùi Thị Hương", "ubnd", "HCTC", "Văn thư", _C),
    PersonSeed("luutru.ubnd", "Phạm Văn Long", "ubnd", "HCTC", "Lưu trữ viên", _A),
    PersonSeed("quantri", "Hoàng Minh Tuấn", "ubnd", "HCTC", "Quản trị hệ thống", _ADM, superuser=True),
    # Sở Nội vụ: every role as well.
    PersonSeed("lanhdao.snv", "Xa Văn Thành", "snv", None, "Giám đốc", _AL),
    PersonSeed("phogiamdoc.snv", "Vũ Thị Lan", "snv", None, "Phó Giám đốc", _AL),
    PersonSeed("truongphong.snv", "Đỗ Mạnh Hùng", "snv", "CCVC", "Trưởng phòng Công chức, viên chức", _UL),
    PersonSeed("chuyenvien.snv", "Ngô Thị Thanh Huyền", "snv", "CCVC", "Chuyên viên", _S),
    PersonSeed("chuyenvien2.snv", "Hà Văn Dũng", "snv", "CCHC", "Chuyên viên", _S),
    PersonSeed("vanthu.snv", "Đinh Thị Ngọc", "snv", "VP", "Văn thư", _C),
    PersonSeed("luutru.snv", "Nguyễn Thị Hồng Nhung", "snv", "VP", "Lưu trữ viên", _A),
    PersonSeed("quantri.snv", "Bùi Đức Thịnh", "snv", "VP", "Quản trị hệ thống", _ADM),
    # The other agencies: a head and a clerk (the clerk registers their documents).
    PersonSeed("chanhvanphong.vp", "Lò Văn Hải", "vp", None, "Chánh Văn phòng", _AL),
    PersonSeed("vanthu.vp", "Trịnh Thị Yến", "vp", "HCTC", "Văn thư", _C),
    PersonSeed("giamdoc.stc", "Phan Văn Cường", "stc", None, "Giám đốc", _AL),
    PersonSeed("chuyenvien.stc", "Nguyễn Thu Trang", "stc", "QLNS", "Chuyên viên", _S),
    PersonSeed("vanthu.stc", "Lý Thị Hạnh", "stc", "VP", "Văn thư", _C),
    PersonSeed("giamdoc.skhdt", "Đặng Quốc Việt", "skhdt", None, "Giám đốc", _AL),
    PersonSeed("vanthu.skhdt", "Mai Thị Phương", "skhdt", "VP", "Văn thư", _C),
    PersonSeed("giamdoc.sgddt", "Cao Thị Hòa", "sgddt", None, "Giám đốc", _AL),
    PersonSeed("vanthu.sgddt", "Bạch Văn Tùng", "sgddt", "VP", "Văn thư", _C),
    PersonSeed("giamdoc.syt", "Lương Văn Bình", "syt", None, "Giám đốc", _AL),
    PersonSeed("vanthu.syt", "Tạ Thị Nga", "syt", "VP", "Văn thư", _C),
    PersonSeed("giamdoc.stp", "Kiều Minh Đức", "stp", None, "Giám đốc", _AL),
    PersonSeed("vanthu.stp", "Hà Thị Loan", "stp", "VP", "Văn thư", _C),
    PersonSeed("chutich.lacson", "Bùi Văn Toàn", "lacson", None, "Chủ tịch", _AL),
    PersonSeed("phochutich.lacson", "Bùi Thị Dung", "lacson", None, "Phó Chủ tịch", _AL),
    PersonSeed("vanthu.lacson", "Quách Văn Hưng", "lacson", "VP", "Văn thư", _C),
    PersonSeed("chutich.maichau", "Hà Công Chiến", "maichau", None, "Chủ tịch", _AL),
    PersonSeed("vanthu.maichau", "Vì Thị Sen", "maichau", "VP", "Văn thư", _C),
    PersonSeed("vanthu.annghia", "Bùi Văn Hòa", "annghia", "VPTK", "Văn thư", _C),
    PersonSeed("vanthu.yennghiep", "Bùi Thị Thủy", "yennghiep", "VPTK", "Văn thư", _C),
    PersonSeed("vanthu.tanlap", "Đinh Văn Quyết", "tanlap", "VPTK", "Văn thư", _C),
    PersonSeed("vanthu.chiengchau", "Hà Thị Xuân", "chiengchau", "VPTK", "Văn thư", _C),
    PersonSeed("vanthu.vanmai", "Lò Văn Khiêm", "vanmai", "VPTK", "Văn thư", _C),
    PersonSeed("vanthu.paco", "Giàng Thị Mai", "paco", "VPTK", "Văn thư", _C),
)


@dataclass(frozen=True)
class DelegationSeed:
    delegator: str
    delegate: str
    prefix: str
    scope: str
    from_offset: tuple[int, int, int]  # (years before the current one, month, day)
    to_offset: tuple[int, int, int] | None = None


DELEGATIONS: tuple[DelegationSeed, ...] = (
    DelegationSeed("lanhdao.ubnd", "phochutich.ubnd", AuthorityPrefix.KT,
                   "Ký thay Chủ tịch các văn bản thuộc lĩnh vực kinh tế, tài chính, đầu tư.", (1, 1, 2)),
    DelegationSeed("lanhdao.ubnd", "truongphong.ubnd", AuthorityPrefix.TL,
                   "Ký thừa lệnh giấy mời, giấy giới thiệu và bản sao văn bản.", (1, 1, 2)),
    DelegationSeed("lanhdao.snv", "phogiamdoc.snv", AuthorityPrefix.KT,
                   "Ký thay Giám đốc văn bản về công chức, viên chức và cải cách hành chính.", (1, 1, 2)),
    DelegationSeed("lanhdao.snv", "truongphong.snv", AuthorityPrefix.TUQ,
                   "Thừa ủy quyền ký văn bản trong thời gian Giám đốc đi công tác.", (1, 7, 1), (1, 7, 15)),
    DelegationSeed("chutich.lacson", "phochutich.lacson", AuthorityPrefix.KT,
                   "Ký thay Chủ tịch văn bản thuộc lĩnh vực văn hóa – xã hội.", (1, 1, 2)),
)


def seed(ctx: Context) -> None:
    """Agencies, units, people and delegations; on a first run they exist from the start of the history
    (just before the registers open on 1 January of last year)."""
    founded = None if ctx.existed else timezone.make_aware(datetime(ctx.now.year - 1, 1, 1, 6, 30))
    with clock(founded) if founded else nullcontext():
        admin = _administrator()
        for index, agency_seed in enumerate(AGENCIES, start=1):
            ctx.agencies[agency_seed.key] = _agency(ctx, admin, agency_seed, index)
            for number, (abbreviation, name) in enumerate(agency_seed.units, start=1):
                ctx.units[(agency_seed.key, abbreviation)] = _unit(ctx, admin, agency_seed, number, abbreviation, name)
        _people(ctx, admin)
        # Fresh instances: role permissions are cached per instance, and groups were just changed.
        ctx.users.update({u.username: u for u in User.objects.filter(username__in=[p.username for p in PEOPLE])
                          .select_related("agency")})
        _delegations(ctx, ctx.users[admin.username])
    for person in PEOPLE:
        if person.role == roles.CLERK:
            ctx.clerks.setdefault(person.agency, ctx.users[person.username])


def totals(ctx: Context) -> dict[str, int]:
    return {
        "agencies": len(ctx.agencies),
        "units": Unit.objects.filter(agency_id__in=ctx.agency_ids).count(),
        "people": User.objects.filter(username__in=[p.username for p in PEOPLE]).count(),
        "delegations": Delegation.objects.filter(agency_id__in=ctx.agency_ids).count(),
    }


def _administrator() -> User:
    """The acting user of the seed. Bootstrapped the way `createsuperuser` does it (someone has to act
    first); the accounts service then completes the account, audited, once its agency exists."""
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        admin = User(username=ADMIN_USERNAME, is_staff=True, is_superuser=True, date_joined=timezone.now())
        admin.set_unusable_password()
        admin.save()
    return admin


def _agency(ctx: Context, admin: User, agency_seed: AgencySeed, index: int) -> Agency:
    agency = Agency.objects.filter(identifier=agency_seed.identifier).first()
    if agency is None:
        agency = account_services.save_agency(admin, Agency(), changed={
            "identifier": agency_seed.identifier, "name": agency_seed.name,
            "abbreviation": agency_seed.abbreviation, "kind": agency_seed.kind,
            "parent": ctx.agencies[agency_seed.parent] if agency_seed.parent else None,
            "legacy_code": f"H10.{index:09d}", "place_name": "Hòa Bình", "address": agency_seed.address,
            "phone": agency_seed.phone, "email": f"{agency_seed.key}@{EMAIL_DOMAIN}",
        })
        ctx.created["agencies"] += 1
    return agency


def _unit(ctx: Context, admin: User, agency_seed: AgencySeed, number: int, abbreviation: str, name: str) -> Unit:
    agency = ctx.agencies[agency_seed.key]
    unit = Unit.objects.filter(agency=agency, abbreviation=abbreviation).first()
    if unit is None:
        unit = account_services.save_unit(admin, Unit(), changed={
            "agency": agency, "abbreviation": abbreviation, "name": name,
            "identifier": f"{number:03d}{agency_seed.identifier[3:]}",
        })
        ctx.created["units"] += 1
    return unit


def _people(ctx: Context, admin: User) -> None:
    existing = set(User.objects.filter(username__in=[p.username for p in PEOPLE]).values_list("username", flat=True))
    for person in PEOPLE:
        is_admin = person.username == admin.username
        if (is_admin and admin.agency_id) or (not is_admin and person.username in existing):
            continue  # there already: never touched again (a changed password stays changed)
        user = admin if is_admin else User(username=person.username)
        account_services.save_user(
            admin, user, [person.role], password=DEMO_PASSWORD,
            changed={
                "full_name": person.full_name, "email": f"{person.username}@{EMAIL_DOMAIN}",
                "agency": ctx.agencies[person.agency], "position": person.position,
                "unit": ctx.units[(person.agency, person.unit)] if person.unit else None,
                "is_staff": person.role == roles.ADMINISTRATOR, "is_superuser": person.superuser,
                "date_joined": timezone.now(),
            },
        )
        ctx.created["people"] += 1


def _delegations(ctx: Context, admin: User) -> None:
    year = timezone.localdate().year
    for delegation_seed in DELEGATIONS:
        delegator, delegate = ctx.users[delegation_seed.delegator], ctx.users[delegation_seed.delegate]
        if Delegation.objects.filter(delegator=delegator, delegate=delegate,
                                     authority_prefix=delegation_seed.prefix).exists():
            continue
        years, month, day = delegation_seed.from_offset
        valid_to = None
        if delegation_seed.to_offset:
            to_years, to_month, to_day = delegation_seed.to_offset
            valid_to = date(year - to_years, to_month, to_day)
        account_services.save_delegation(admin, Delegation(), changed={
            "agency": delegator.agency, "delegator": delegator, "delegate": delegate,
            "authority_prefix": delegation_seed.prefix, "scope": delegation_seed.scope,
            "valid_from": date(year - years, month, day), "valid_to": valid_to,
        })
        ctx.created["delegations"] += 1
