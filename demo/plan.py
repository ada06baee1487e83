"""The demo's history: what each demo agency registers, receives and shares from 2 January of last year to
now, drawn reproducibly (same seed, same day → same plan) as a list of dated actions that
`demo.documents` replays in date order through the registry's services. Nothing here writes: the only
read is the document types' abbreviations.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts import roles
from accounts.models import AgencyKind, AuthorityPrefix
from documents.models import Confidentiality, Document, DocumentType, Urgency

from .accounts import AGENCIES, PEOPLE, AgencySeed

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
