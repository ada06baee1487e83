"""`manage.py seed_demo`: a demo province (Hòa Bình) with its agencies, people, registers and two years
of documents, so that `make run` opens on something that looks like a real e-office.

Why the documents go through the real services: registration takes "today" from the clock, so the seed
replays history by running `register_outgoing` / `register_incoming` / `grant_document_access` with the
clock set to each document's moment (see `_clock`). Numbers, notations, identifiers, secret series,
grants and audit events are therefore exactly what the services produce, and stay so when the services
change; the actions are replayed in date order, so every register's numbers are gapless and increase
with the dates, and the audit chain verifies.

Idempotent: agencies, units, people, delegations and registers are looked up by their natural keys and
only missing ones are created; documents are created (in one transaction, all or nothing) only when the
demo agencies hold none yet. Passwords of existing accounts are never reset.
"""

from __future__ import annotations

import io
import logging
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts import services as account_services
from accounts.models import Agency, AgencyKind, AuthorityPrefix, Delegation, Unit, User
from audit.models import AuditEvent
from documents import services
from documents.models import (
    Confidentiality,
    Direction,
    Document,
    DocumentGroupObjectPermission,
    DocumentType,
    DocumentUserObjectPermission,
    Register,
    RegisterKind,
    Urgency,
)
from documents.pdf import register_fonts
from workflows import services as workflow_services
from workflows.models import IncomingCase

PROVINCE_IDENTIFIER = "000.00.00.H10"
ADMIN_USERNAME = "quantri"
DEMO_PASSWORD = "demo12345"
# A reserved top-level domain (RFC 2606): demo e-mail can never reach a real mailbox, even if SMTP is set up.
EMAIL_DOMAIN = "hoabinh.example"
DEFAULT_DOCUMENTS = 360
REGISTER_KINDS = (
    RegisterKind.OUTGOING, RegisterKind.INCOMING, RegisterKind.SECRET_OUTGOING, RegisterKind.SECRET_INCOMING,
)


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

# --- what the documents talk about ----------------------------------------------------------------

TOPICS: dict[str, tuple[str, ...]] = {
    "province": (
        "phát triển kinh tế – xã hội", "cải cách hành chính", "chuyển đổi số", "phòng, chống thiên tai",
        "xây dựng nông thôn mới", "giải ngân vốn đầu tư công", "phòng cháy, chữa cháy rừng",
        "bảo đảm trật tự an toàn giao thông", "giảm nghèo bền vững", "phát triển du lịch hồ Hòa Bình",
    ),
    "office": (
        "tổ chức phiên họp thường kỳ của Ủy ban nhân dân tỉnh", "chế độ thông tin, báo cáo",
        "vận hành Hệ thống quản lý văn bản và điều hành", "tiếp công dân định kỳ", "công tác văn thư, lưu trữ",
    ),
    "home": (
        "tuyển dụng công chức", "nâng bậc lương thường xuyên", "đánh giá, xếp loại chất lượng công chức, viên chức",
        "thi đua, khen thưởng", "sắp xếp đơn vị hành chính cấp xã", "kiểm tra công tác văn thư, lưu trữ",
        "đào tạo, bồi dưỡng cán bộ, công chức", "vị trí việc làm và biên chế",
    ),
    "finance": (
        "lập dự toán ngân sách nhà nước", "quyết toán ngân sách", "quản lý, sử dụng tài sản công",
        "thực hành tiết kiệm, chống lãng phí", "kiểm tra tài chính doanh nghiệp nhà nước",
    ),
    "planning": (
        "kế hoạch đầu tư công trung hạn", "thu hút đầu tư", "đăng ký doanh nghiệp",
        "theo dõi, đánh giá dự án đầu tư", "hỗ trợ doanh nghiệp nhỏ và vừa",
    ),
    "education": (
        "tuyển sinh vào lớp 10", "kỳ thi tốt nghiệp trung học phổ thông", "bồi dưỡng học sinh giỏi",
        "chương trình giáo dục phổ thông 2018", "bảo đảm an toàn trường học",
    ),
    "health": (
        "tiêm chủng mở rộng", "phòng, chống sốt xuất huyết", "bảo đảm an toàn thực phẩm",
        "khám chữa bệnh bảo hiểm y tế", "củng cố y tế cơ sở",
    ),
    "justice": (
        "phổ biến, giáo dục pháp luật", "kiểm tra văn bản quy phạm pháp luật", "đăng ký hộ tịch",
        "trợ giúp pháp lý", "hòa giải ở cơ sở",
    ),
    "district": (
        "xây dựng nông thôn mới", "giảm nghèo bền vững", "phòng, chống thiên tai", "thu ngân sách trên địa bàn",
        "chuyển đổi cơ cấu cây trồng", "quản lý trật tự xây dựng", "giải phóng mặt bằng",
    ),
    "commune": (
        "xây dựng nông thôn mới", "tiêm chủng cho trẻ em", "đăng ký hộ tịch", "phòng, chống cháy rừng",
        "hỗ trợ hộ nghèo",
    ),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "quyet-dinh": (
        "Về việc phê duyệt kế hoạch {topic} năm {year}", "Về việc thành lập Tổ công tác {topic}",
        "Về việc ban hành Quy chế phối hợp trong {topic}",
        "Về việc khen thưởng tập thể, cá nhân có thành tích trong {topic}",
        "Về việc giao chỉ tiêu {topic} năm {year}",
    ),
    "cong-van": (
        "V/v triển khai {topic}", "V/v báo cáo tình hình {topic}", "V/v góp ý dự thảo văn bản về {topic}",
        "V/v đôn đốc thực hiện {topic}", "V/v cung cấp thông tin về {topic}",
    ),
    "ke-hoach": ("Triển khai {topic} năm {year}", "Kiểm tra {topic} năm {year}", "Tuyên truyền về {topic} năm {year}"),
    "bao-cao": ("Kết quả thực hiện {topic} {period}", "Tình hình {topic} {period}"),
    "thong-bao": (
        "Kết luận của lãnh đạo tại cuộc họp về {topic}", "Về việc tổ chức hội nghị {topic}",
        "Lịch công tác tuần {week} năm {year}",
    ),
    "giay-moi": ("Dự hội nghị về {topic}", "Dự cuộc họp triển khai {topic}"),
    "to-trinh": ("Đề nghị phê duyệt kế hoạch {topic} năm {year}", "Đề nghị bổ sung kinh phí thực hiện {topic}"),
    "chi-thi": ("Về tăng cường {topic}",),
    "huong-dan": ("Thực hiện {topic} năm {year}",),
    "nghi-quyet": ("Về {topic} năm {year}",),
    "giay-nghi-phep": ("Cho công chức nghỉ phép năm {year}",),
    "giay-gioi-thieu": ("Giới thiệu công chức đến liên hệ công tác về {topic}",),
    "bien-ban": ("Cuộc họp giao ban về {topic}",),
}

_COMMITTEE_TYPES = (("cong-van", 34), ("quyet-dinh", 28), ("ke-hoach", 8), ("thong-bao", 8), ("bao-cao", 8),
                    ("giay-moi", 6), ("chi-thi", 2), ("to-trinh", 3))
_BODY_TYPES = (("cong-van", 40), ("bao-cao", 14), ("to-trinh", 12), ("quyet-dinh", 10), ("ke-hoach", 8),
               ("thong-bao", 6), ("giay-moi", 6), ("huong-dan", 4))
_INTERNAL_TYPES = (("giay-nghi-phep", 3), ("giay-gioi-thieu", 3), ("thong-bao", 3), ("quyet-dinh", 2),
                   ("bien-ban", 2))
_EXTERNAL_TYPES = (("cong-van", 50), ("quyet-dinh", 15), ("thong-bao", 10), ("huong-dan", 8), ("ke-hoach", 7),
                   ("giay-moi", 10))

# Senders outside this installation, by the receiving agency's area: (name, identifier, abbreviation, units).
_MINISTRIES = {
    "home": ("Bộ Nội vụ", "000.00.00.G09", "BNV", ("CCVC", "TCBC", "CQĐP", "VP")),
    "finance": ("Bộ Tài chính", "000.00.00.G12", "BTC", ("NSNN", "QLCS", "VP")),
    "planning": ("Bộ Kế hoạch và Đầu tư", "000.00.00.G10", "BKHĐT", ("KTĐP", "ĐKKD", "VP")),
    "education": ("Bộ Giáo dục và Đào tạo", "000.00.00.G08", "BGDĐT", ("GDTrH", "QLCL", "VP")),
    "health": ("Bộ Y tế", "000.00.00.G18", "BYT", ("KCB", "DP", "VP")),
    "justice": ("Bộ Tư pháp", "000.00.00.G16", "BTP", ("PBGDPL", "KTrVB", "VP")),
}
EXTERNAL_SENDERS: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "province": (
        ("Văn phòng Chính phủ", "000.00.00.G01", "VPCP", ("KGVX", "KTTH", "NC", "TCCV")),
        ("Hội đồng nhân dân tỉnh Hòa Bình", "000.00.00.H10.HĐND", "HĐND", ("TTr",)),
        *_MINISTRIES.values(),
    ),
    "office": (("Văn phòng Chính phủ", "000.00.00.G01", "VPCP", ("HC", "TCCV")),),
    "district": (
        ("Kho bạc Nhà nước Hòa Bình", "000.00.00.KB10", "KBNN", ("KSC", "VP")),
        ("Bảo hiểm xã hội tỉnh Hòa Bình", "000.00.00.BH10", "BHXH", ("QLT", "VP")),
    ),
    "commune": (("Bảo hiểm xã hội tỉnh Hòa Bình", "000.00.00.BH10", "BHXH", ("QLT",)),),
    **{area: (sender,) for area, sender in _MINISTRIES.items()},
}

DRAFT_BODY = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
    "Theo đề nghị của Trưởng phòng chuyên môn,",
)


_PDF_TITLES = {
    "quyet-dinh": "QUYẾT ĐỊNH", "cong-van": "CÔNG VĂN", "bao-cao": "BÁO CÁO", "ke-hoach": "KẾ HOẠCH",
    "thong-bao": "THÔNG BÁO", "giay-moi": "GIẤY MỜI", "to-trinh": "TỜ TRÌNH",
}


# --- the plan: every action with its moment, replayed in date order -----------------------------------


@dataclass
class OutgoingPlan:
    moment: datetime
    agency: str
    type_code: str
    subject: str
    urgency: int
    confidentiality: int
    unit: str
    signer: tuple[str, str, str]  # name, position, authority prefix
    recipients: list[str]  # agency keys
    recipient_names: list[str]
    issued_amount: int
    internal: bool = False
    document: Document | None = None


@dataclass
class IncomingPlan:
    moment: datetime
    agency: str
    type_code: str
    subject: str
    urgency: int
    confidentiality: int
    to_places: str
    due_in_days: int | None
    source: OutgoingPlan | None = None  # sent by an agency of this installation
    sender: dict = field(default_factory=dict)  # or from outside: organ, number, notation, issued date
    document: Document | None = None


@dataclass
class GrantPlan:
    moment: datetime
    target: OutgoingPlan | IncomingPlan
    username: str = ""
    group: str = ""


@dataclass
class OpenRegistersPlan:
    moment: datetime
    year: int


Plan = OutgoingPlan | IncomingPlan | GrantPlan | OpenRegistersPlan


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _w in choices], weights=[w for _c, w in choices])[0]


def _work_hours(rng: random.Random, day: date) -> datetime:
    minutes = 7 * 60 + 30 + rng.randrange(9 * 60 + 30)
    return timezone.make_aware(datetime.combine(day, time(minutes // 60, minutes % 60, rng.randrange(60))))


def _workday(day: date) -> date:
    while day.weekday() >= 5:  # weekends back to Friday
        day -= timedelta(days=1)
    return day


class Planner:
    """Draws a reproducible history (same seed, same day → same plan) of the demo agencies."""

    def __init__(self, rng: random.Random, now: datetime, total: int):
        self.rng = rng
        self.now = now
        self.total = total
        self.start = date(now.year - 1, 1, 2)
        self.seeds = {a.key: a for a in AGENCIES}
        self.children: dict[str, list[str]] = {}
        for seed in AGENCIES:
            if seed.parent:
                self.children.setdefault(seed.parent, []).append(seed.key)
        self.heads: dict[str, str] = {}  # the first listed leader of each agency is its head
        for person in PEOPLE:
            if person.role == roles.AGENCY_LEADER:
                self.heads.setdefault(person.agency, person.username)
        self.used_external: set[tuple[str, str, str]] = set()
        self.counters: Counter[str] = Counter()

    def moment(self) -> datetime:
        span = (self.now.date() - self.start).days
        day = max(_workday(self.start + timedelta(days=self.rng.randrange(span + 1))), self.start)
        return min(_work_hours(self.rng, day), self.now - timedelta(seconds=self.rng.randrange(60, 3600)))

    def later(self, moment: datetime, max_days: int) -> datetime | None:
        """A working-hours moment after `moment`, within `max_days` (None if that is still to come)."""
        day = moment.date() + timedelta(days=self.rng.randint(0, max_days))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        candidate = _work_hours(self.rng, day)
        if candidate <= moment:
            candidate = moment + timedelta(minutes=self.rng.randint(10, 120))
        return candidate if candidate <= self.now else None

    def subject(self, type_code: str, area: str, moment: datetime) -> str:
        quarter = (moment.month - 1) // 3 + 1
        period = self.rng.choice(
            [f"quý {'I II III IV'.split()[quarter - 1]} năm {moment.year}", f"tháng {moment.month:02d} năm {moment.year}",
             f"6 tháng đầu năm {moment.year}" if moment.month >= 6 else f"năm {moment.year - 1}"]
        )
        template = self.rng.choice(SUBJECTS.get(type_code, SUBJECTS["cong-van"]))
        return template.format(topic=self.rng.choice(TOPICS[area]), year=moment.year, period=period,
                               week=moment.isocalendar()[1])

    def urgency(self) -> int:
        return self.rng.choices(Urgency.values, weights=[80, 12, 6, 2])[0]

    def signer(self, seed: AgencySeed) -> tuple[str, str, str]:
        committee = seed.kind != AgencyKind.PROVINCE_BODY
        if self.rng.random() < 0.55:
            name, position = seed.leader
            return name, position, AuthorityPrefix.TM if committee else AuthorityPrefix.NONE
        name, position = seed.deputy
        return name, position, AuthorityPrefix.KT

    def recipients(self, seed: AgencySeed, type_code: str) -> tuple[list[str], list[str]]:
        upward = type_code in ("bao-cao", "to-trinh")
        if seed.kind == AgencyKind.PROVINCE_COMMITTEE:
            pool, names = self.children[seed.key], ["Thường trực Tỉnh ủy", "Thường trực HĐND tỉnh"]
            if upward:
                return [], ["Văn phòng Chính phủ", self.rng.choice(_MINISTRIES_LIST)[0]]
        elif seed.kind == AgencyKind.PROVINCE_BODY:
            if upward or self.rng.random() < 0.35:
                return [seed.parent], []
            pool, names = [k for k in self.children["ubnd"] if k != seed.key], []
        elif seed.kind == AgencyKind.DISTRICT_COMMITTEE:
            if upward:
                return [seed.parent], []
            pool, names = self.children[seed.key] + ["snv", "stc"], ["Thường trực Huyện ủy"]
        else:
            return [seed.parent], []
        chosen = self.rng.sample(pool, k=min(len(pool), self.rng.randint(1, 3)))
        extra = [self.rng.choice(names)] if names and self.rng.random() < 0.3 else []
        return chosen, extra

    def confidentiality(self, series: str, every: int) -> int:
        """One document in `every` is secret (one in three of those top secret); the first comes early."""
        self.counters[series] += 1
        count = self.counters[series]
        if count % every != every // 2:
            return Confidentiality.NORMAL
        return Confidentiality.TOP_SECRET if (count // every) % 3 == 2 else Confidentiality.SECRET

    def plan(self) -> list[Plan]:
        rng = self.rng
        actions: list[Plan] = []
        documents = 0
        owners = [(a.key, 24 if a.key == "ubnd" else 18 if a.key == "snv" else
                   6 if a.kind in (AgencyKind.PROVINCE_BODY, AgencyKind.DISTRICT_COMMITTEE) else 2) for a in AGENCIES]
        while documents < self.total:
            moment = self.moment()
            seed = self.seeds[_weighted(rng, tuple(owners))]
            roll = rng.random()
            if roll < 0.48:
                drawn = self._outgoing(seed, moment, linked=documents + 1 < self.total)
            elif roll < 0.88:
                drawn = self._external_incoming(seed, moment)
            else:
                drawn = self._internal(seed, moment)
            actions.extend(drawn)
            documents += sum(isinstance(a, OutgoingPlan | IncomingPlan) for a in drawn)
        for year in (self.now.year - 1, self.now.year):
            actions.append(OpenRegistersPlan(timezone.make_aware(datetime(year, 1, 1, 7, 0)), year))
        # Stable sort: an action planned after another at the same moment stays after it.
        return sorted(actions, key=lambda a: (a.moment, not isinstance(a, OpenRegistersPlan)))

    def _outgoing(self, seed: AgencySeed, moment: datetime, linked: bool) -> list[Plan]:
        rng = self.rng
        committee = seed.kind != AgencyKind.PROVINCE_BODY
        type_code = _weighted(rng, _COMMITTEE_TYPES if committee else _BODY_TYPES)
        recipients, names = self.recipients(seed, type_code)
        out = OutgoingPlan(
            moment=moment, agency=seed.key, type_code=type_code, subject=self.subject(type_code, seed.area, moment),
            urgency=self.urgency(), confidentiality=self.confidentiality("outgoing", every=25), unit=rng.choice(seed.units)[0],
            signer=self.signer(seed), recipients=recipients, recipient_names=names,
            issued_amount=rng.randint(3, 25),
        )
        actions: list[Plan] = [out]
        # The first agency of the installation it is sent to registers it as incoming a little later.
        if linked and recipients and rng.random() < 0.75 and (arrival := self.later(moment, 3)):
            receiver = self.seeds[recipients[0]]
            incoming = IncomingPlan(
                moment=arrival, agency=receiver.key, type_code=type_code, subject=out.subject, urgency=out.urgency,
                confidentiality=out.confidentiality, to_places=rng.choice(receiver.units)[1],
                due_in_days=rng.choice([None, None, 7, 10, 15]), source=out,
            )
            actions.extend([incoming, *self._grants(incoming)])
        actions.extend(self._grants(out))
        return actions

    def _external_incoming(self, seed: AgencySeed, moment: datetime) -> list[Plan]:
        rng = self.rng
        organ, organ_id, abbreviation, units = rng.choice(EXTERNAL_SENDERS[seed.area])
        type_code = "nghi-quyet" if abbreviation == "HĐND" else _weighted(rng, _EXTERNAL_TYPES)
        type_abbreviation = self.type_abbreviations[type_code]
        notation = f"{type_abbreviation}-{abbreviation}" if type_abbreviation else f"{abbreviation}-{rng.choice(units)}"
        issued = _workday(moment.date() - timedelta(days=rng.randint(1, 6)))
        while True:
            number = str(rng.randint(issued.timetuple().tm_yday * 3, issued.timetuple().tm_yday * 9 + 40))
            if (key := (seed.key, organ, f"{number}/{notation}")) not in self.used_external:
                self.used_external.add(key)
                break
        incoming = IncomingPlan(
            moment=moment, agency=seed.key, type_code=type_code, subject=self.subject(type_code, seed.area, moment),
            urgency=self.urgency(), confidentiality=self.confidentiality("incoming", every=30),
            to_places=rng.choice(seed.units)[1], due_in_days=rng.choice([None, None, 5, 10, 20]),
            sender={"organ_name": organ, "organ_id": organ_id, "code_number": number, "code_notation": notation,
                    "issued_date": issued, "signer_name": "", "signer_position": "Bộ trưởng" if organ.startswith("Bộ")
                    else "Chủ tịch" if abbreviation == "HĐND" else "Giám đốc"},
        )
        return [incoming, *self._grants(incoming)]

    def _internal(self, seed: AgencySeed, moment: datetime) -> list[Plan]:
        rng = self.rng
        type_code = _weighted(rng, _INTERNAL_TYPES)
        unit_abbreviation, unit_name = rng.choice(seed.units)
        return [OutgoingPlan(
            moment=moment, agency=seed.key, type_code=type_code, subject=self.subject(type_code, seed.area, moment),
            urgency=Urgency.NORMAL, confidentiality=Confidentiality.NORMAL, unit=unit_abbreviation,
            signer=self.signer(seed), recipients=[], recipient_names=[unit_name], issued_amount=2,
            internal=True,
        )]

    def _grants(self, target: OutgoingPlan | IncomingPlan) -> list[GrantPlan]:
        """Cross-agency sharing (users and a role group) and secret documents shown to the head."""
        grants: list[GrantPlan] = []
        at = self.later(target.moment, 1) or target.moment
        if target.confidentiality != Confidentiality.NORMAL:
            if head := self.heads.get(target.agency):
                grants.append(GrantPlan(at, target, username=head))
            return grants
        if not isinstance(target, OutgoingPlan) or target.agency not in ("ubnd", "snv"):
            return grants
        # Counted per agency (and per decision) so that even a small seed has some of each.
        self.counters[f"shared-{target.agency}"] += 1
        count = self.counters[f"shared-{target.agency}"]
        if target.agency == "ubnd" and count % 6 == 1:
            grants.append(GrantPlan(at, target, username="chuyenvien.snv" if count % 12 == 1 else "lanhdao.snv"))
        if target.agency == "snv" and count % 6 == 1:
            grants.append(GrantPlan(at, target, username="chuyenvien.ubnd"))
        if target.agency == "ubnd" and target.type_code == "quyet-dinh":
            self.counters["shared-decisions"] += 1
            if self.counters["shared-decisions"] % 3 == 1:
                grants.append(GrantPlan(at, target, group=roles.AGENCY_LEADER))
        return grants

    @property
    def type_abbreviations(self) -> dict[str, str]:
        if not hasattr(self, "_type_abbreviations"):
            self._type_abbreviations = dict(DocumentType.objects.values_list("code", "abbreviation"))
        return self._type_abbreviations


_MINISTRIES_LIST = tuple(_MINISTRIES.values())


# --- replaying the plan through the services ---------------------------------------------------------


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    """Let the services (and auto_now fields, audit timestamps) see `moment` as now.

    In UTC, like the real `timezone.now()`: the audit hash covers the timestamp's text, and the
    database hands it back in UTC."""
    utc_moment = moment.astimezone(UTC)
    with mock.patch.object(timezone, "now", lambda: utc_moment):
        yield


@contextmanager
def _quiet_eager_tasks() -> Iterator[None]:
    """In the embedded mode the file-extraction tasks run in-process after commit, each logging a line."""
    trace_logger = logging.getLogger("celery.app.trace")
    level = trace_logger.level
    trace_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        trace_logger.setLevel(level)


def _pdf(title: str) -> bytes:
    """A small A4 sample in Vietnamese; `invariant` makes the bytes reproducible, so re-runs reuse blobs."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(f"{title} (văn bản mẫu)")
    width, height = A4
    pdf.setFont("DejaVuSans-Bold", 11)
    pdf.drawCentredString(150, height - 60, "CƠ QUAN BAN HÀNH")
    pdf.drawCentredString(width - 170, height - 60, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    pdf.drawCentredString(width - 170, height - 76, "Độc lập - Tự do - Hạnh phúc")
    pdf.setFont("DejaVuSans", 11)
    pdf.drawCentredString(150, height - 82, "Số:      /")
    pdf.drawCentredString(width - 170, height - 100, "Hòa Bình, ngày     tháng     năm")
    pdf.setFont("DejaVuSans-Bold", 14)
    pdf.drawCentredString(width / 2, height - 150, title)
    pdf.setFont("DejaVuSans", 12)
    body = [
        "Văn bản mẫu của dữ liệu trình diễn (demo) hệ thống quản lý văn bản và điều hành.",
        "Nội dung chỉ nhằm minh họa thể thức văn bản hành chính theo Nghị định số 30/2020/NĐ-CP.",
        "Căn cứ Luật Tổ chức chính quyền địa phương;",
        "Theo đề nghị của Chánh Văn phòng,",
        "Điều 1. Phê duyệt nội dung kèm theo văn bản này.",
        "Điều 2. Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành.",
    ]
    for index, line in enumerate(body):
        pdf.drawString(85, height - 200 - index * 22, line)
    pdf.drawString(85, 120, "Nơi nhận: - Như Điều 2; - Lưu: VT.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# Stages of the demo's incoming cases and the age (days since registration) a document needs to have
# reached that stage honestly; the newest document old enough is taken, in this order.
WORKFLOW_STAGES: tuple[tuple[str, float], ...] = (
    ("registered", 0), ("presented", 0.2), ("directed", 1.2), ("being handled", 2.2),
    ("extension requested", 2.7), ("completed on time", 3.2), ("completed late", 6.2), ("overdue", 5.2),
    ("returned", 0.2),
)


@dataclass
class Context:
    agencies: dict[str, Agency]
    units: dict[tuple[str, str], Unit]
    users: dict[str, User]
    clerks: dict[str, User]
    types: dict[str, DocumentType]
    pdfs: dict[str, bytes] = field(default_factory=dict)

    def upload(self, type_code: str, moment: datetime) -> SimpleUploadedFile:
        key = type_code if type_code in _PDF_TITLES else "van-ban"
        if key not in self.pdfs:
            self.pdfs[key] = _pdf(_PDF_TITLES.get(key, "VĂN BẢN"))
        return SimpleUploadedFile(f"{type_code}-{moment:%Y%m%d-%H%M}.pdf", self.pdfs[key], "application/pdf")


class Command(BaseCommand):
    help = "Create the Hòa Bình demo: agencies, units, ~40 people, registers and two years of documents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--documents", type=int, default=DEFAULT_DOCUMENTS,
                            help=f"Documents to create on the first run (default {DEFAULT_DOCUMENTS}).")
        parser.add_argument("--seed", type=int, default=2020, help="Random seed of the generated history.")
        parser.add_argument("--force", action="store_true",
                            help="Add the demo even though the database holds other agencies.")

    def handle(self, *args, documents: int, seed: int, force: bool, **options) -> None:
        province_exists = Agency.objects.filter(identifier=PROVINCE_IDENTIFIER).exists()
        if not province_exists and Agency.objects.exists() and not force:
            raise CommandError("This database already holds agencies that are not demo data; "
                               "refusing to mix the demo into them (use --force to do it anyway).")
        if documents < 0:
            raise CommandError("--documents must not be negative.")
        self.created: Counter[str] = Counter()
        now = timezone.now()
        # A first run writes the whole history in one transaction: a crash leaves nothing half-seeded.
        with _quiet_eager_tasks(), transaction.atomic():
            # The organisation exists from the start of the history (just before the registers open).
            founded = None if province_exists else timezone.make_aware(datetime(now.year - 1, 1, 1, 6, 30))
            ctx = self._organisation(at=founded)
            if Document.objects.filter(agency__in=ctx.agencies.values()).exists():
                self.stdout.write("Demo documents exist already: none added.")
                self._open_registers(ctx, timezone.localdate().year, at=None)
            else:
                self._replay(ctx, Planner(random.Random(seed), now, documents).plan())
            self._workflows(ctx, now)
            self._drafts(ctx, now)
        self._summary(ctx, province_exists)

    # --- organisation ------------------------------------------------------------------------------

    def _organisation(self, at: datetime | None) -> Context:
        """Agencies, units, people and delegations through the accounts services (each audited),
        acted by the administrator `quantri`; only what is missing is created."""
        with _clock(at) if at else nullcontext():
            admin = self._administrator()
            agencies: dict[str, Agency] = {}
            units: dict[tuple[str, str], Unit] = {}
            for index, seed in enumerate(AGENCIES, start=1):
                agency = Agency.objects.filter(identifier=seed.identifier).first()
                if agency is None:
                    agency = account_services.save_agency(admin, Agency(), changed={
                        "identifier": seed.identifier, "name": seed.name, "abbreviation": seed.abbreviation,
                        "kind": seed.kind, "parent": agencies[seed.parent] if seed.parent else None,
                        "legacy_code": f"H10.{index:09d}", "place_name": "Hòa Bình", "address": seed.address,
                        "phone": seed.phone, "email": f"{seed.key}@{EMAIL_DOMAIN}",
                    })
                    self.created["agencies"] += 1
                agencies[seed.key] = agency
                for number, (abbreviation, name) in enumerate(seed.units, start=1):
                    unit = Unit.objects.filter(agency=agency, abbreviation=abbreviation).first()
                    if unit is None:
                        unit = account_services.save_unit(admin, Unit(), changed={
                            "agency": agency, "abbreviation": abbreviation, "name": name,
                            "identifier": f"{number:03d}{seed.identifier[3:]}",
                        })
                        self.created["units"] += 1
                    units[(seed.key, abbreviation)] = unit
            existing = set(User.objects.filter(username__in=[p.username for p in PEOPLE]).values_list(
                "username", flat=True))
            for person in PEOPLE:
                is_admin = person.username == admin.username
                if (is_admin and admin.agency_id) or (not is_admin and person.username in existing):
                    continue  # there already: never touched again (a changed password stays changed)
                user = admin if is_admin else User(username=person.username)
                account_services.save_user(
                    admin, user, [person.role], password=DEMO_PASSWORD,
                    changed={
                        "full_name": person.full_name, "email": f"{person.username}@{EMAIL_DOMAIN}",
                        "agency": agencies[person.agency], "position": person.position,
                        "unit": units[(person.agency, person.unit)] if person.unit else None,
                        "is_staff": person.role == roles.ADMINISTRATOR, "is_superuser": person.superuser,
                        "date_joined": timezone.now(),
                    },
                )
                self.created["people"] += 1
            # Fresh instances: role permissions are cached per instance, and groups were just changed.
            users = {u.username: u for u in User.objects.filter(username__in=[p.username for p in PEOPLE])
                     .select_related("agency")}
            self._delegations(users[admin.username], users)
        clerks: dict[str, User] = {}
        for person in PEOPLE:
            if person.role == roles.CLERK:
                clerks.setdefault(person.agency, users[person.username])
        types = {t.code: t for t in DocumentType.objects.all()}
        return Context(agencies, units, users, clerks, types)

    def _administrator(self) -> User:
        """The acting user of the seed. Bootstrapped the way `createsuperuser` does it (someone has to
        act first); the accounts service then completes the account, audited, once its agency exists."""
        admin = User.objects.filter(username=ADMIN_USERNAME).first()
        if admin is None:
            admin = User(username=ADMIN_USERNAME, is_staff=True, is_superuser=True, date_joined=timezone.now())
            admin.set_unusable_password()
            admin.save()
        return admin

    def _delegations(self, admin: User, users: dict[str, User]) -> None:
        year = timezone.localdate().year
        for seed in DELEGATIONS:
            delegator, delegate = users[seed.delegator], users[seed.delegate]
            if Delegation.objects.filter(delegator=delegator, delegate=delegate, authority_prefix=seed.prefix).exists():
                continue
            years, month, day = seed.from_offset
            valid_to = None
            if seed.to_offset:
                to_years, to_month, to_day = seed.to_offset
                valid_to = date(year - to_years, to_month, to_day)
            account_services.save_delegation(admin, Delegation(), changed={
                "agency": delegator.agency, "delegator": delegator, "delegate": delegate,
                "authority_prefix": seed.prefix, "scope": seed.scope,
                "valid_from": date(year - years, month, day), "valid_to": valid_to,
            })
            self.created["delegations"] += 1

    def _open_registers(self, ctx: Context, year: int, at: datetime | None) -> None:
        """The main series of each kind for the year, opened by the administrator (audited by the service)."""
        admin = ctx.users[ADMIN_USERNAME]
        existing = set(Register.objects.filter(year=year, code="").values_list("agency_id", "kind"))
        for agency in ctx.agencies.values():
            for kind in REGISTER_KINDS:
                if (agency.pk, kind) in existing:
                    continue
                if at is None:
                    services.create_register(admin, agency=agency, kind=kind, year=year)
                else:
                    with _clock(at):
                        services.create_register(admin, agency=agency, kind=kind, year=year)
                self.created["registers"] += 1

    # --- documents ---------------------------------------------------------------------------------

    def _replay(self, ctx: Context, plan: list[Plan]) -> None:
        for action in plan:
            if isinstance(action, OpenRegistersPlan):
                self._open_registers(ctx, action.year, at=action.moment)
                continue
            with _clock(action.moment):
                if isinstance(action, OutgoingPlan):
                    action.document = self._register_outgoing(ctx, action)
                elif isinstance(action, IncomingPlan):
                    action.document = self._register_incoming(ctx, action)
                else:
                    self._grant(ctx, action)

    def _register_outgoing(self, ctx: Context, plan: OutgoingPlan) -> Document:
        name, position, prefix = plan.signer
        data = services.OutgoingInput(
            document_type_id=ctx.types[plan.type_code].pk, subject=plan.subject, signer_name=name,
            signer_position=position, authority_prefix=prefix, urgency=plan.urgency,
            confidentiality=plan.confidentiality, drafting_unit_id=ctx.units[(plan.agency, plan.unit)].pk,
            recipients=[services.RecipientInput(agency_id=ctx.agencies[key].pk) for key in plan.recipients]
            + [services.RecipientInput(name=text) for text in plan.recipient_names],
            page_amount=1, issued_amount=plan.issued_amount, internal=plan.internal,
        )
        self.created[f"documents ({'internal' if plan.internal else 'outgoing'})"] += 1
        return services.register_outgoing(ctx.clerks[plan.agency], data, [ctx.upload(plan.type_code, plan.moment)])

    def _register_incoming(self, ctx: Context, plan: IncomingPlan) -> Document:
        arrival = timezone.localdate()
        if plan.source is not None:
            sent = plan.source.document
            sender = {"organ_name": sent.organ_name, "organ_id": sent.organ_id, "code_number": sent.code_number,
                      "code_notation": sent.code_notation, "issued_date": sent.issued_date,
                      "identifier": sent.identifier, "signer_name": sent.signer_name,
                      "signer_position": sent.signer_position}
        else:
            sender = plan.sender
        data = services.IncomingInput(
            document_type_id=ctx.types[plan.type_code].pk, subject=plan.subject, urgency=plan.urgency,
            confidentiality=plan.confidentiality, arrival_date=arrival, to_places=plan.to_places, page_amount=1,
            due_date=arrival + timedelta(days=plan.due_in_days) if plan.due_in_days else None, **sender,
        )
        self.created["documents (incoming)"] += 1
        clerk = ctx.clerks[plan.agency]
        try:
            return services.register_incoming(clerk, data, [ctx.upload(plan.type_code, plan.moment)])
        except services.DuplicateDocument as exc:
            # The warning matches number + notation + sender, but numbers restart every year and secret
            # documents have their own series (Art. 15), so last year's "05/QĐ-UBND", or a secret one, is
            # another document: the clerk confirms the warning, as in the form. The same identifier
            # (same date too) would be a real duplicate, i.e. a bug of the plan.
            identifier = data.identifier or services.build_identifier(
                data.organ_id, data.issued_date, data.code_number, data.code_notation)
            if any(d.identifier == identifier for d in exc.duplicates):
                raise
            self.created["duplicate warnings confirmed"] += 1
            return services.register_incoming(
                clerk, data, [ctx.upload(plan.type_code, plan.moment)], confirm_duplicate=True
            )

    def _grant(self, ctx: Context, plan: GrantPlan) -> None:
        document = plan.target.document
        clerk = ctx.clerks[plan.target.agency]
        if plan.group:
            services.grant_document_access(clerk, document, group=Group.objects.get(name=plan.group))
        else:
            services.grant_document_access(clerk, document, user=ctx.users[plan.username])
        self.created["grants"] += 1

    # --- incoming-document handling ----------------------------------------------------------------

    def _workflows(self, ctx: Context, now: datetime) -> None:
        """Incoming documents at every stage of handling (Decree 30 Art. 20-24), through workflows.services
        with the clock set to each step's moment, like the registrations: entered and presented, directed,
        being handled, with an extension request, completed on time and late, left overdue, returned.
        Only when the demo agencies have no case yet (idempotent); secret documents are left alone."""
        if IncomingCase.objects.filter(agency__in=ctx.agencies.values()).exists():
            return
        created = 0
        for key, agency in ctx.agencies.items():
            cast = self._workflow_cast(ctx, key)
            if cast is None:
                continue
            documents = list(
                Document.objects.filter(agency=agency, direction=Direction.INCOMING,
                                        confidentiality=Confidentiality.NORMAL)
                .order_by("-created_at", "-pk")
            )
            used: set[int] = set()
            for stage, min_age in WORKFLOW_STAGES:
                document = next((d for d in documents if d.pk not in used
                                 and (now - d.created_at) >= timedelta(days=min_age)), None)
                if document is None:
                    continue
                used.add(document.pk)
                self._handle(stage, document, cast, now)
                created += 1
                self.created[f"incoming cases ({stage})"] += 1
        if created:
            workflow_services.mark_overdue()

    def _workflow_cast(self, ctx: Context, key: str) -> dict[str, User] | None:
        """The agency's clerk, leader, a unit leader and a person of that unit (the unit leader when the
        unit has nobody else); None for an agency without them."""
        members = [p for p in PEOPLE if p.agency == key]
        leader = next((p for p in members if p.role == roles.AGENCY_LEADER), None)
        chiefs = [p for p in members if p.role == roles.UNIT_LEADER and p.unit]
        if key not in ctx.clerks or leader is None or not chiefs:
            return None
        chief = next((c for c in chiefs if any(p.role == roles.STAFF and p.unit == c.unit for p in members)),
                     chiefs[0])
        handler = next((p for p in members if p.role == roles.STAFF and p.unit == chief.unit), chief)
        return {"clerk": ctx.clerks[key], "leader": ctx.users[leader.username],
                "chief": ctx.users[chief.username], "handler": ctx.users[handler.username]}

    def _handle(self, stage: str, document: Document, cast: dict[str, User], now: datetime) -> None:
        """Replay one case up to `stage`; each step at registration + offset (never after now)."""
        start = document.created_at
        day = timezone.localtime(start).date()

        def at(hours: float):
            return _clock(min(start + timedelta(hours=hours), now - timedelta(seconds=1)))

        late = stage == "completed late"
        overdue = stage == "overdue"
        with at(1):
            case = workflow_services.open_case(cast["clerk"], document)
        if stage == "registered":
            return
        if stage == "returned":
            with at(2):
                workflow_services.return_case(cast["clerk"], case, "Văn bản gửi nhầm cơ quan, đề nghị gửi lại.")
            return
        with at(2):
            case = workflow_services.present(cast["clerk"], case, cast["leader"])
        if stage == "presented":
            return
        unit_deadline = day + timedelta(days=4 if late or overdue else 10)
        with at(24):
            case = workflow_services.direct(
                cast["leader"], case, instruction="Giao phòng chủ trì nghiên cứu, tham mưu, báo cáo.",
                targets=[workflow_services.TargetInput(role="lead", unit_id=cast["chief"].unit_id,
                                                       deadline=unit_deadline)],
            )
        if stage == "directed":
            return
        assignment = case.assignments.get(role="lead")
        with at(26):
            assignment = workflow_services.assign_within_unit(
                cast["chief"], assignment, cast["handler"], deadline=unit_deadline - timedelta(days=1),
                note="Đồng chí nghiên cứu, đề xuất.",
            )
        if stage in ("being handled", "extension requested"):
            with at(48):
                assignment = workflow_services.record_progress(
                    cast["handler"], assignment, note="Đang tổng hợp số liệu từ các đơn vị.")
        if stage == "extension requested":
            with at(60):
                workflow_services.request_extension(
                    cast["handler"], assignment, new_deadline=unit_deadline,
                    reason="Các đơn vị chưa gửi đủ số liệu.")
        elif stage == "completed on time" or late:
            with at(6 * 24 if late else 72):
                workflow_services.complete_assignment(
                    cast["handler"], assignment, outcome="Đã tham mưu văn bản trả lời.")

    DRAFT_STAGES = (
        ("returned", "Về việc tổ chức tập huấn nghiệp vụ văn thư, lưu trữ năm {year}", "cong-van", 0),
        ("in review", "Kế hoạch triển khai chuyển đổi số trong cơ quan năm {year}", "ke-hoach", 0),
        ("format check", "Báo cáo kết quả thực hiện nhiệm vụ quý IV năm {year}", "bao-cao", 0),
        ("ready to sign", "Về việc thành lập Tổ công tác rà soát thủ tục hành chính", "quyet-dinh", 1),
        ("signed on paper", "Thông báo lịch tiếp công dân tháng 12 năm {year}", "thong-bao", 0),
    )

    def _drafts(self, ctx: Context, now: datetime) -> None:
        """Outgoing drafts at every stage of the default chain (Decree 30 Art. 10-14), through the drafting
        services: returned to the drafter with a comment, waiting for the unit leader, at the clerk's
        format check, ready for the leader to sign (one urgent), signed on paper and waiting to be issued.
        Only when the demo agencies have no draft yet."""
        from workflows import drafting_services
        from workflows.drafting import Draft

        if Draft.objects.filter(agency__in=ctx.agencies.values()).exists():
            return
        types = ctx.types
        year = timezone.localdate().year
        for key, agency in ctx.agencies.items():
            cast = self._workflow_cast(ctx, key)
            if cast is None or cast["handler"] == cast["chief"]:
                continue
            for hours_ago, (stage, subject, type_code, urgency) in enumerate(self.DRAFT_STAGES, start=1):
                started = now - timedelta(days=hours_ago)
                with _clock(started):
                    data = drafting_services.DraftInput(
                        document_type_id=types.get(type_code, types["cong-van"]).pk,
                        subject=subject.format(year=year), urgency=urgency, proposed_signer_id=cast["leader"].pk,
                        recipients=[{"name": "Như trên"}, {"name": "Lưu: VT"}],
                    )
                    draft = drafting_services.create_draft(
                        cast["handler"], data, self._draft_pdf(agency, cast["leader"], types.get(type_code), data.subject))
                    draft = drafting_services.submit(cast["handler"], draft)
                with _clock(started + timedelta(hours=3)):
                    if stage == "returned":
                        drafting_services.return_draft(
                            cast["chief"], draft, comment="Đề nghị bổ sung số liệu và căn cứ pháp lý.")
                    elif stage != "in review":
                        draft = drafting_services.approve_step(cast["chief"], draft, comment="Đồng ý.")
                if stage in ("ready to sign", "signed on paper"):
                    with _clock(started + timedelta(hours=5)):
                        draft = drafting_services.approve_step(cast["clerk"], draft)
                if stage == "signed on paper":
                    with _clock(started + timedelta(hours=8)):
                        drafting_services.mark_signed_on_paper(cast["leader"], draft)
                self.created[f"drafts ({stage})"] += 1

    def _draft_pdf(self, agency: Agency, leader: User, document_type: DocumentType | None,
                   subject: str) -> SimpleUploadedFile:
        """A draft laid out as Decree 30 prescribes (blank number and date, an empty signature space between
        the leader's title and name), so that the demo leader can sign it digitally and the clerk seal it."""
        from signatures.sample_documents import build_decree30_pdf

        kinds = {"quyet-dinh": "QUYẾT ĐỊNH", "ke-hoach": "KẾ HOẠCH", "bao-cao": "BÁO CÁO", "thong-bao": "THÔNG BÁO",
                 "cong-van": ""}
        type_code = document_type.code if document_type else "cong-van"
        abbreviation = document_type.abbreviation if document_type else ""
        suffix = f"{abbreviation}-{agency.abbreviation}" if abbreviation else agency.abbreviation
        pdf = build_decree30_pdf(
            agency_parent=(agency.parent.name if agency.parent_id else "").upper(), agency_name=agency.name.upper(),
            notation_suffix=suffix, title_kind=kinds.get(type_code, ""), subject=subject,
            body_paragraphs=DRAFT_BODY, place=agency.place_name or "Hòa Bình",
            position_title=(leader.position or "Thủ trưởng cơ quan").upper(), signer_name=leader.display_name,
            recipients=["Như trên;", "Lưu: VT."],
        )
        return SimpleUploadedFile(f"du-thao-{type_code}.pdf", pdf, "application/pdf")

    # --- summary -----------------------------------------------------------------------------------

    def _summary(self, ctx: Context, existed: bool) -> None:
        agency_ids = [a.pk for a in ctx.agencies.values()]
        docs = Document.objects.filter(agency_id__in=agency_ids)
        by_direction = Counter(docs.values_list("direction", flat=True))
        totals = {
            "agencies": len(ctx.agencies),
            "units": Unit.objects.filter(agency_id__in=agency_ids).count(),
            "people": User.objects.filter(username__in=[p.username for p in PEOPLE]).count(),
            "delegations": Delegation.objects.filter(agency_id__in=agency_ids).count(),
            "registers": Register.objects.filter(agency_id__in=agency_ids).count(),
            "documents": docs.count(),
            "outgoing": by_direction[Direction.OUTGOING],
            "incoming": by_direction[Direction.INCOMING],
            "internal": by_direction[Direction.INTERNAL],
            "secret": docs.exclude(confidentiality=Confidentiality.NORMAL).count(),
            "user grants": DocumentUserObjectPermission.objects.filter(content_object__agency_id__in=agency_ids).count(),
            "group grants": DocumentGroupObjectPermission.objects.filter(
                content_object__agency_id__in=agency_ids).count(),
            "incoming cases": IncomingCase.objects.filter(agency_id__in=agency_ids).count(),
            "audit events": AuditEvent.objects.count(),
        }
        added = ", ".join(f"{count} {what}" for what, count in sorted(self.created.items()) if count) or "nothing"
        self.stdout.write(("Demo seed found; " if existed else "Demo seeded; ") + f"added {added}.")
        self.stdout.write("Totals: " + ", ".join(f"{what} {count}" for what, count in totals.items()) + ".")
        self.stdout.write(f"Log in as e.g. vanthu.ubnd, chuyenvien.snv or quantri with the password "
                          f"{DEMO_PASSWORD!r} (docs/demo-accounts.md).")
