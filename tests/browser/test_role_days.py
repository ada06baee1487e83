"""Each role's day in the browser, on the live server: the clerk, a staff member, the unit head, the agency
leader, the archivist and the administrator log in and walk the main steps of their work, at desktop size
(1280 x 800) and on a 390 px phone.

Asserted on the way: the counts of "My work" and of the menu, the document's pages shown beside the decision,
the texts in both languages (switched with the language selector), dates as dd/mm/yyyy and no horizontal
overflow at 390 px. Each step leaves a screenshot in var/screenshots/<lang>/<role>-<step>.png (a test
artefact); with EOFFICE_GUIDE_SCREENSHOTS=1 the same pictures are written to docs/guide/img/<lang>/, where
the user guide (docs/guide/) shows them, so the guide's pictures come from these tests.

The office is built once for the module (the day of each role uses its own documents, so the tests do not
depend on each other's order) and the database is emptied once at the end, instead of after every test: the
whole module takes about a minute. One browser; each role logs in once, and its English and phone-sized
contexts reuse that log-in's storage state.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone

from accounts import roles
from documents import services as documents_services
from documents.models import Confidentiality, Document
from signatures.sample_documents import build_decree30_pdf
from tests.factories import PASSWORD, AgencyFactory, UnitFactory, doc_type, make_pdf, make_user
from tests.flushing import flush_database
from workflows import services as workflow_services
from workflows.drafting import Draft, DraftState
from workflows.models import Assignment, AssignmentState, CaseState, IncomingCase, TargetRole

# `beside`: make test runs the module in its second process (one office built once, beside the parallel suite).
pytestmark = [pytest.mark.browser, pytest.mark.beside]

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "var" / "screenshots"
GUIDE_IMAGES = ROOT / "docs" / "guide" / "img"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DMY = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TODAY = timezone.localdate
# The guide's page of each person (docs/guide/<lang>/<name>.md) and the prefix of their screenshots.
GUIDE_NAMES = {
    "clerk": "clerk",
    "staff": "staff",
    "unit_head": "unit-head",
    "leader": "leader",
    "archivist": "archivist",
    "admin": "administrator",
}


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- the office, built once ----------------------------------------------------------------------------------


@dataclass
class World:
    agency: object
    unit: object
    people: dict
    items: dict = field(default_factory=dict)

    def __getitem__(self, key: str):
        return self.people[key] if key in self.people else self.items[key]


@pytest.fixture(autouse=True)
def _live_server_helper():
    """Replaces pytest-django's helper of the same name, which empties the database after every test that
    uses the live server: here the `world` fixture holds the database open for the module and empties it
    once at the end."""
    yield


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, live_server):
    with django_db_blocker.unblock():
        live_server._live_server_modified_settings.enable()
        try:
            # Off this thread: Playwright's event loop runs here, and the signing task refuses to run in one.
            with ThreadPoolExecutor(1) as pool:
                built = pool.submit(_build_world).result()
            yield built
        finally:
            live_server._live_server_modified_settings.disable()
            # As after a transactional test: the next tests find an empty database.
            flush_database()


def _build_world() -> World:
    """Sở Nội vụ tỉnh Hòa Bình, one person per role, and the work each of them finds in the morning."""
    try:
        from importlib import import_module

        from django.apps import apps as django_apps

        from accounts.roles import sync_role_groups

        import_module("documents.migrations.0002_load_document_types").load_types(django_apps, None)
        sync_role_groups()
        agency = AgencyFactory(name="Sở Nội vụ tỉnh Hòa Bình", abbreviation="SNV", place_name="Hòa Bình")
        unit = UnitFactory(agency=agency, name="Phòng Công chức, viên chức", abbreviation="CCVC")
        people = {
            "clerk": make_user(
                roles.CLERK, agency, username="vanthu.snv", full_name="Đinh Thị Thu", position="Văn thư"
            ),
            "leader": make_user(
                roles.AGENCY_LEADER, agency, username="lanhdao.snv", full_name="Xa Văn Thành", position="Giám đốc"
            ),
            "unit_head": make_user(
                roles.UNIT_LEADER,
                agency,
                unit=unit,
                username="truongphong.snv",
                full_name="Bùi Thị Hạnh",
                position="Trưởng phòng",
            ),
            "staff": make_user(
                roles.STAFF,
                agency,
                unit=unit,
                username="chuyenvien.snv",
                full_name="Quách Văn Minh",
                position="Chuyên viên",
            ),
            "archivist": make_user(
                roles.ARCHIVIST, agency, username="luutru.snv", full_name="Hà Thị Lan", position="Lưu trữ viên"
            ),
            "admin": make_user(
                roles.ADMINISTRATOR,
                agency,
                username="quantri.snv",
                full_name="Trần Quốc Huy",
                position="Quản trị hệ thống",
                is_staff=True,
            ),
        }
        world = World(agency, unit, people)
        _install_pki(world)
        world.items["to_direct"] = presented_case(world, "Về việc báo cáo số lượng công chức năm 2026", "101")
        world.items["to_assign"] = directed_case(world, "Về việc rà soát vị trí việc làm", "102")
        world.items["to_handle"] = assigned_case(world, "Về việc tuyển dụng công chức năm 2027", "103")
        world.items["to_sign"] = ready_draft(world, "Về việc kiện toàn Tổ công tác cải cách hành chính")
        world.items["to_issue"] = signed_draft(world, "Về việc ban hành Quy chế văn thư, lưu trữ")
        return world
    finally:
        connections.close_all()


def _install_pki(world: World) -> None:
    """The demo PKI: a certificate for every leader and clerk and the agency's seal."""
    from demo.pki import install
    from workflows import drafting_services as ds

    admin = get_user_model().objects.create_superuser("quantri.root", password=PASSWORD)
    install(admin, [world.agency])
    ds.ensure_default_chain(world.agency)


def incoming(
    world: World, subject: str, number: str, *, organ: str = "Bộ Nội vụ", pages: int = 2, due: date | None = None
) -> Document:
    """A registered incoming document with its scanned file, as the clerk leaves it at the arrival desk."""
    data = documents_services.IncomingInput(
        document_type_id=doc_type("cong-van").pk,
        subject=subject,
        organ_name=organ,
        code_number=number,
        code_notation="BNV-CCVC",
        issued_date=TODAY() - timedelta(days=3),
        confidentiality=Confidentiality.NORMAL,
        due_date=due,
    )
    upload = SimpleUploadedFile(f"cv-{number}.pdf", make_pdf(pages, subject), "application/pdf")
    return documents_services.register_incoming(world["clerk"], data, [upload])


def presented_case(world: World, subject: str, number: str) -> IncomingCase:
    document = incoming(world, subject, number, due=TODAY() + timedelta(days=10))
    return workflow_services.enter_and_present(
        world["clerk"], document, world["leader"], note="Đề nghị giao Phòng Công chức, viên chức chủ trì."
    )


def directed_case(world: World, subject: str, number: str) -> IncomingCase:
    case = presented_case(world, subject, number)
    target = workflow_services.TargetInput(
        role=TargetRole.LEAD, unit_id=world.unit.pk, deadline=TODAY() + timedelta(days=7)
    )
    return workflow_services.direct(
        world["leader"], case, instruction="Giao Phòng CCVC chủ trì, tham mưu.", targets=[target]
    )


def assigned_case(world: World, subject: str, number: str) -> IncomingCase:
    case = directed_case(world, subject, number)
    assignment = Assignment.objects.get(case=case, unit=world.unit)
    workflow_services.assign_within_unit(
        world["unit_head"],
        assignment,
        world["staff"],
        deadline=TODAY() + timedelta(days=5),
        note="Đồng chí Minh nghiên cứu, đề xuất.",
    )
    return case


def ready_draft(world: World, subject: str) -> Draft:
    """A decision drafted by the staff member, approved by the unit head and checked by the clerk: waiting for
    the leader's digital signature."""
    from workflows import drafting_services as ds

    leader = world["leader"]
    pdf = build_decree30_pdf(
        agency_parent="ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
        agency_name="SỞ NỘI VỤ",
        notation_suffix="QĐ-SNV",
        title_kind="QUYẾT ĐỊNH",
        subject=subject,
        body_paragraphs=[
            "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ;",
            "Điều 1. Quyết định này có hiệu lực kể từ ngày ký.",
        ],
        place="Hòa Bình",
        position_title="GIÁM ĐỐC",
        signer_name=leader.full_name,
        recipients=["Như Điều 1;", "Lưu: VT, CCVC."],
    )
    data = ds.DraftInput(
        document_type_id=doc_type("quyet-dinh").pk,
        subject=subject,
        proposed_signer_id=leader.pk,
        recipients=[{"name": "Các phòng thuộc Sở"}],
    )
    draft = ds.create_draft(world["staff"], data, SimpleUploadedFile("qd.pdf", pdf, "application/pdf"))
    draft = ds.submit(world["staff"], draft)
    draft = ds.approve_step(world["unit_head"], draft)
    draft = ds.approve_step(world["clerk"], draft)
    assert draft.state == DraftState.READY_TO_SIGN
    return draft


def signed_draft(world: World, subject: str) -> Draft:
    """A draft the leader has signed digitally: waiting for the clerk to issue it."""
    from workflows import draft_signing

    draft = ready_draft(world, subject)
    request = draft_signing.request_personal_signature(world["leader"], draft, password=PASSWORD)
    request.refresh_from_db()
    assert request.state == "done", request.error
    draft.refresh_from_db()
    return draft


# --- the browser ---------------------------------------------------------------------------------------------


class Day:
    """One person's day: a desktop page, a phone page on the same log-in, and the screenshots of the steps."""

    def __init__(self, browser, live_server, user, role: str) -> None:
        self.browser, self.base, self.user, self.role = browser, live_server.url, user, role
        self.contexts: list = []
        self.page = self._page(DESKTOP)
        self.page.goto(f"{self.base}/login/")
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login/" not in self.page.url, self.page.locator("main").inner_text()
        self.english = None  # the same log-in in English, opened by `in_english`

    def _page(self, viewport: dict, **options):
        """A page in a new context: the first one logs in, the others carry its log-in (storage state)."""
        if self.contexts:
            options["storage_state"] = self.contexts[0].storage_state()
        context = self.browser.new_context(viewport=viewport, locale="vi-VN", **options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    def go(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")

    def shot(self, step: str, *, lang: str = "vi", page=None, full_page: bool = False) -> None:
        """The step's screenshot, as a test artefact and (EOFFICE_GUIDE_SCREENSHOTS=1) for the guide; then
        the same page in English, before anything on it is submitted."""
        page = page or self.page
        page.wait_for_load_state()
        if page.locator("#pdf-pages img").count():
            pages_shown(page)
        name = f"{self.role}-{step}.png"
        artefact = ARTEFACTS / lang / name
        artefact.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(artefact), full_page=full_page)
        if os.environ.get("EOFFICE_GUIDE_SCREENSHOTS") == "1":
            _to_guide(artefact, GUIDE_IMAGES / lang / name)
        if lang == "en" and page.locator("main").count():
            dates_read_day_month_year(page, expect=False)  # dd/mm/yyyy whatever the language
        if lang == "vi" and page is self.page:
            english = self.in_english()
            english.goto(page.url)
            self.shot(step, lang="en", page=english, full_page=full_page)

    def in_english(self):
        """The same person in English: switched with the language selector, the header checked."""
        if self.english is None:
            self.english = self._page(DESKTOP)
            self.english.goto(f"{self.base}/work/")
            assert "Việc của tôi" in self.english.locator("header").inner_text()
            switch_language(self.english, "en")
            header = self.english.locator("header").inner_text()
            assert "My work" in header and "Việc của tôi" not in header
            assert self.english.locator("main h1").first.inner_text().startswith("My work")
        return self.english

    def phone(self, path: str):
        """The same person on a 390 px phone, with the desktop log-in, at `path`: nothing wider than the
        screen, in Vietnamese and in English (often the longer one); a screenshot of each."""
        page = self._page(PHONE, is_mobile=True, has_touch=True)
        page.goto(f"{self.base}{path}")
        no_horizontal_overflow(page)
        self.shot("phone", page=page)
        switch_language(page, "en")
        no_horizontal_overflow(page)
        self.shot("phone", lang="en", page=page)
        return page

    def opens_the_guide(self) -> None:
        """The "Help" link in the header, from whatever page, opens this role's guide in the language in use,
        with its pictures."""
        if not self.page.locator("#nav-help").count():  # the administration site has a header of its own
            self.go("/work/")
        self.page.click("#nav-help")
        self.page.wait_for_url(re.compile(rf"/help/vi/{self.role}\.md$"))
        assert self.page.locator("article.help-guide h1").count() == 1
        pictures = self.page.locator("article.help-guide img")
        if pictures.count():
            self.page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=pictures.first.element_handle(), timeout=30000
            )
        self.page.screenshot(path=str(ARTEFACTS / "vi" / f"{self.role}-help.png"))  # an artefact, not in the guide

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def day_of(browser, live_server, world):
    days: list[Day] = []

    def start(person: str) -> Day:
        days.append(Day(browser, live_server, world[person], GUIDE_NAMES[person]))
        return days[-1]

    yield start
    for day in days:
        day.close()


def _to_guide(artefact: Path, target: Path) -> None:
    """The guide's copy in 256 colours: a screen of text and flat colours looks the same at a third of the
    size, and the repository keeps every picture."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(artefact) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def switch_language(page, lang: str) -> None:
    page.select_option("select[name=language]", lang)
    page.wait_for_selector(f"html[lang={lang}]")


def no_horizontal_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport + 1, f"{page.url}: {width} px of content on a {viewport} px screen"


def buttons_are_tall_enough(page, selector: str = "main button:visible") -> None:
    """Every visible button of the page's main part is at least 44 px high (a thumb, not a mouse)."""
    heights = page.eval_on_selector_all(
        selector, "els => els.map(e => [e.innerText, e.getBoundingClientRect().height])"
    )
    low = [(text, height) for text, height in heights if height < 43.5]
    assert not low, f"{page.url}: buttons lower than 44 px: {low}"


def dates_read_day_month_year(page, *, expect: bool = True) -> None:
    text = page.locator("main").inner_text()
    iso = ISO_DATE.search(text)
    assert iso is None, f"{page.url}: a date shown as yyyy-mm-dd: {iso.group()}"
    if expect:
        assert DMY.search(text), f"{page.url}: no dd/mm/yyyy date on the page"


def count_of(locator) -> int:
    """The number a badge or heading shows (waiting for it, should the page fill it in after loading)."""
    locator.page.wait_for_function("el => /^\\s*\\d+\\s*$/.test(el.textContent)", arg=locator.element_handle(),
                                   timeout=30000)
    return int((locator.text_content() or "").strip())


def landing_counts(page, kind: str, section: str, expected: int) -> None:
    """My work: the menu's badge for `kind`, the section's heading count and its rows all say `expected`."""
    page.wait_for_selector("#nav-work")
    assert count_of(page.locator(f"header [data-desk-count={kind}]")) == expected
    heading = page.locator(f"section#{section} h2 .count")
    assert count_of(heading) == expected
    assert page.locator(f"section#{section} tbody tr").count() == expected
    total = page.locator("#nav-work [data-desk-count=total]")
    assert count_of(total) >= expected


def pages_shown(page) -> None:
    """The document's pages are drawn beside the decision: images of the PDF's pages, loaded."""
    pages = page.locator("#pdf-pages img")
    assert pages.count() >= 1, "no page of the document is shown"
    first = pages.first
    first.scroll_into_view_if_needed()
    # The page is drawn on first request (a child process): give a loaded machine time.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle(), timeout=45000)
    page.evaluate("window.scrollTo(0, 0)")


def flash(page) -> str:
    return page.locator("ul.messages").inner_text()


# --- the days ------------------------------------------------------------------------------------------------


def test_clerk_registers_and_presents_then_issues_the_signed_draft(day_of, world, tmp_path):
    day = day_of("clerk")
    page = day.page
    # My work: the signed draft waits to be issued; the menu shows the count.
    landing_counts(
        page, "to_issue", "draft-issue", Draft.objects.filter(agency=world.agency, state=DraftState.SIGNED).count()
    )
    day.shot("landing")

    # One screen: register, enter for handling and present to the leader with a proposal.
    scan = tmp_path / "cv-250-bnv.pdf"
    scan.write_bytes(make_pdf(2, "Về việc hướng dẫn đánh giá, xếp loại công chức"))
    page.click("header a[href$='/work/incoming/register/']")
    page.wait_for_selector("#register-present-form")
    page.select_option("#id_document_type", str(doc_type("cong-van").pk))
    page.fill("#id_organ_name", "Bộ Nội vụ")
    page.fill("#id_code_number", "250")
    page.fill("#id_code_notation", "BNV-CCVC")
    page.fill("#id_issued_date", dmy(TODAY() - timedelta(days=2)))
    page.fill("#id_subject", "Về việc hướng dẫn đánh giá, xếp loại công chức")
    page.fill("#id_due_date", dmy(TODAY() + timedelta(days=14)))
    page.set_input_files("#id_files", str(scan))
    page.select_option("#id_leader", str(world["leader"].pk))
    page.fill("#id_note", "Đề nghị Giám đốc giao Phòng Công chức, viên chức chủ trì.")
    day.shot("register", full_page=True)
    page.click("#register-present-form button[value=open]")
    page.wait_for_url(re.compile(r"/work/incoming/\d+/$"))
    case = IncomingCase.objects.get(document__code_number="250")
    assert case.state == CaseState.PRESENTED and case.presented_to_id == world["leader"].pk
    # The dates typed as dd/mm/yyyy were read as day/month, whatever the browser's locale.
    assert case.document.issued_date == TODAY() - timedelta(days=2)
    assert case.document.due_date == TODAY() + timedelta(days=14)
    # The message says what happened and who has it now.
    assert world["leader"].full_name in flash(page)
    pages_shown(page)
    dates_read_day_month_year(page, expect=False)
    day.shot("presented")

    # Issue the leader-signed draft: number, date and seal in one action.
    draft = world["to_issue"]
    page.goto(f"{day.base}/work/")
    page.click(f"section#draft-issue a[href$='/work/drafts/{draft.pk}/']")
    page.wait_for_selector("#issue-form")
    assert page.locator("#issue-form input[name=method][value=digital]").is_checked()
    pages_shown(page)
    page.fill("#issue-form input[name=password]", PASSWORD)
    day.shot("issue")
    page.click("#issue-form button[type=submit]")
    page.wait_for_load_state()
    draft.refresh_from_db()
    assert draft.state == DraftState.ISSUED, flash(page)
    issued = draft.issued_document
    page.goto(f"{day.base}/work/drafts/{draft.pk}/")
    assert issued.code_notation in page.locator("main").inner_text()
    pages_shown(page)
    day.shot("issued")

    phone = day.phone("/work/")
    phone.goto(f"{day.base}/work/incoming/register/")
    no_horizontal_overflow(phone)
    buttons_are_tall_enough(phone, "#register-present-form button")
    day.opens_the_guide()


def test_leader_directs_a_case_and_signs_a_draft(day_of, world):
    day = day_of("leader")
    page = day.page
    case, draft = world["to_direct"], world["to_sign"]
    leader = world["leader"]
    landing_counts(
        page,
        "to_direct",
        "to_direct",
        IncomingCase.objects.filter(presented_to=leader, state=CaseState.PRESENTED).count(),
    )
    to_sign = Draft.objects.filter(state=DraftState.READY_TO_SIGN, current_holder=leader).count()
    assert count_of(page.locator("header [data-desk-count=to_sign]")) == to_sign >= 1
    dates_read_day_month_year(page)
    day.shot("landing")

    # Direct: the slip shows the document's pages beside the form; the deadline from registration is there.
    page.click(f"section#to_direct a[href$='/work/incoming/{case.pk}/']")
    page.wait_for_selector("#direct-form")
    pages_shown(page)
    assert "Đề nghị giao Phòng Công chức" in page.locator("#clerk-proposal").inner_text()
    # The agency's usual phrases are offered: one click puts a phrase in the instruction.
    page.click("#instruction-phrases button[data-phrase='Để biết.']")
    assert page.input_value("#direct-form textarea[name=instruction]") == "Để biết."
    page.fill("#direct-form textarea[name=instruction]", "Giao Phòng Công chức, viên chức chủ trì, tham mưu báo cáo.")
    page.check(f"#direct-form input[name=lead][value='unit:{world.unit.pk}']")
    # The deadline entered at registration comes pre-filled, as dd/mm/yyyy.
    deadline = page.locator("#direct-form input[name=lead_deadline]")
    assert deadline.input_value() == dmy(case.document.due_date)
    day.shot("direct", full_page=True)
    page.click("#direct-form button[type=submit]")
    page.wait_for_load_state()
    case.refresh_from_db()
    assert case.state == CaseState.DIRECTED, page.locator("main").inner_text()[:500]
    assert Assignment.objects.filter(case=case, unit=world.unit, role=TargetRole.LEAD).exists()
    day.shot("directed")

    # Sign: the draft's pages beside "Ký số"; the signature is applied by the signing service.
    page.goto(f"{day.base}/work/")
    page.click(f"a[href$='/work/drafts/{draft.pk}/']")
    page.wait_for_selector("#sign-form")
    pages_shown(page)
    page.fill("#sign-form input[name=password]", PASSWORD)
    day.shot("sign")
    page.click("#sign-form button[type=submit]")
    page.wait_for_load_state()
    draft.refresh_from_db()
    assert draft.signed_at is not None, page.locator("main").inner_text()[:500]
    page.goto(f"{day.base}/work/drafts/{draft.pk}/")
    assert page.locator("#signing .state-done, #signing .signing-request.state-done").count() >= 1
    day.shot("signed")

    phone = day.phone(f"/work/drafts/{draft.pk}/")
    phone.goto(f"{day.base}/work/incoming/{case.pk}/")
    no_horizontal_overflow(phone)
    day.opens_the_guide()


def test_unit_head_assigns_the_directed_case(day_of, world):
    day = day_of("unit_head")
    page = day.page
    case = world["to_assign"]
    # The unit head's "to handle" is the unit's documents waiting to be assigned.
    landing_counts(
        page,
        "to_handle",
        "to_assign",
        Assignment.objects.filter(unit=world.unit, state=AssignmentState.WAITING).count(),
    )
    day.shot("landing")

    page.click(f"section#to_assign a[href$='/work/incoming/{case.pk}/']")
    form = page.locator("form[action*='/assign/']")
    form.wait_for()
    pages_shown(page)
    assert "Giao Phòng CCVC chủ trì" in page.locator("main").inner_text()  # the leader's direction
    form.locator("select[name=assignee]").select_option(str(world["staff"].pk))
    # The unit's deadline comes pre-filled as dd/mm/yyyy; the handler's may only be earlier.
    deadline = form.locator("input[name=deadline]")
    assert DMY.fullmatch(deadline.input_value()), deadline.input_value()
    deadline.fill(dmy(TODAY() + timedelta(days=5)))
    form.locator("input[name=note]").fill("Đồng chí Minh nghiên cứu, dự thảo văn bản trả lời.")
    day.shot("assign")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assignment = Assignment.objects.get(case=case, unit=world.unit)
    assert assignment.assignee_id == world["staff"].pk, page.locator("main").inner_text()[:500]
    assert assignment.handler_deadline == TODAY() + timedelta(days=5)
    assert world["staff"].full_name in page.locator("main").inner_text()
    dates_read_day_month_year(page)
    day.shot("assigned")

    day.phone("/work/")
    day.opens_the_guide()


def test_staff_completes_the_assignment_and_drafts_a_reply(day_of, world, tmp_path):
    day = day_of("staff")
    page = day.page
    case = world["to_handle"]
    landing_counts(
        page,
        "to_handle",
        "to_handle",
        Assignment.objects.filter(assignee=world["staff"], state=AssignmentState.HANDLING).count(),
    )
    dates_read_day_month_year(page)
    day.shot("landing")

    # Handle: read the document beside the form, complete with the outcome.
    page.click(f"section#to_handle a[href$='/work/incoming/{case.pk}/']")
    complete = page.locator("form[action*='/complete/']")
    complete.wait_for()
    pages_shown(page)
    complete.locator("textarea[name=outcome]").fill("Đã tham mưu văn bản báo cáo Bộ Nội vụ.")
    day.shot("handle")
    complete.locator("button[type=submit]").click()
    page.wait_for_load_state()
    case.refresh_from_db()
    assert case.state == CaseState.COMPLETED, page.locator("main").inner_text()[:500]
    day.shot("completed")

    # Draft the reply: type, subject, signer, recipients and the draft file; then send it for review.
    draft_file = tmp_path / "du-thao-bao-cao.pdf"
    draft_file.write_bytes(make_pdf(2, "Dự thảo báo cáo tuyển dụng công chức"))
    page.click("header a[href$='/work/drafts/']")
    page.click("main a[href$='/work/drafts/new/']")
    page.wait_for_selector("#id_subject")
    page.select_option("#id_document_type", str(doc_type("bao-cao").pk))
    page.fill("#id_subject", "Báo cáo kết quả tuyển dụng công chức năm 2027")
    page.select_option("#id_proposed_signer", str(world["leader"].pk))
    recipients = page.locator("#id_recipients")
    if recipients.count():
        recipients.fill("Bộ Nội vụ\nLưu: VT, CCVC")
    page.set_input_files("#id_file", str(draft_file))
    day.shot("draft", full_page=True)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/work/drafts/\d+/$"))
    draft = Draft.objects.get(subject="Báo cáo kết quả tuyển dụng công chức năm 2027")
    page.click(f"form[action$='/drafts/{draft.pk}/submit/'] button[type=submit]")
    page.wait_for_load_state()
    draft.refresh_from_db()
    assert draft.state == DraftState.IN_REVIEW, page.locator("main").inner_text()[:500]
    assert world["unit_head"].full_name in page.locator("main").inner_text()  # who has it now
    pages_shown(page)
    day.shot("submitted")

    phone = day.phone(f"/work/incoming/{case.pk}/")
    phone.goto(f"{day.base}/work/drafts/new/")
    no_horizontal_overflow(phone)
    day.opens_the_guide()


def test_archivist_looks_up_documents_and_registers(day_of, world):
    day = day_of("archivist")
    page = day.page
    page.wait_for_selector("#nav-work")
    day.shot("landing")

    # Search the documents: the list, its dates as dd/mm/yyyy, and a document with its pages.
    page.click("header a[href$='/documents/']")
    page.wait_for_load_state()
    page.fill("main input[name=q]", "công chức")
    page.press("main input[name=q]", "Enter")
    page.wait_for_load_state()
    rows = page.locator("#document-list tbody tr")
    assert rows.count() >= 2
    assert "101/BNV-CCVC" in page.locator("#document-list").inner_text()
    dates_read_day_month_year(page)
    day.shot("search")
    document = world["to_direct"].document
    page.click(f"#document-list a[href$='/documents/{document.pk}/']")
    page.wait_for_url(re.compile(rf"/documents/{document.pk}/$"))
    pages_shown(page)
    dates_read_day_month_year(page)
    day.shot("document")

    # The registers: the incoming register of the year, to print.
    page.click("header a[href$='/documents/registers/']")
    page.wait_for_load_state()
    registers = page.locator("main").inner_text()
    # (the outgoing register exists once the clerk's day has issued: that test may run in another process)
    assert "Sổ đăng ký văn bản đến" in registers
    dates_read_day_month_year(page)
    day.shot("registers")

    phone = day.phone("/documents/?q=công chức")
    phone.goto(f"{day.base}/help/vi/archivist.md")  # the guide itself, pictures and all, fits a phone
    no_horizontal_overflow(phone)
    day.opens_the_guide()


def test_administrator_opens_settings_and_administration(day_of, world):
    day = day_of("admin")
    page = day.page
    page.wait_for_selector("#nav-work")
    day.shot("landing")

    page.click("header a[href$='/settings/']")
    page.wait_for_url(re.compile(r"/settings/$"))
    assert page.locator("main h1").count() >= 1
    day.shot("settings", full_page=True)

    # The administration site, branded, in the person's language.
    page.goto(f"{day.base}/admin/")
    page.wait_for_load_state()
    assert page.locator("#site-name, #header").count() >= 1
    day.shot("admin")
    page.goto(f"{day.base}/admin/accounts/user/")
    assert "vanthu.snv" in page.content()
    day.shot("users")

    day.phone("/settings/")
    day.opens_the_guide()
