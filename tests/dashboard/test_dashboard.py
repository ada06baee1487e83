"""The leaders' dashboard and the statistical reports, on one small dataset shared by every test (built once):
two agencies and a provincial committee; incoming documents on paper and through the exchange, outgoing ones
signed digitally and sent, sent only, or on paper; handling on time, overdue and in progress; a draft waiting
for its signature. The figures, the scopes, the lists behind the figures, the exports and the report task."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import asdict
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import AgencyKind
from audit.models import AuditEvent
from dashboard import events, selectors, services, tasks
from dashboard.models import DocumentTally, HandlingTally, JobState, QueueTally, ReportJob, TallyRefresh
from documents import services as documents_services
from documents.models import Confidentiality, Document, DocumentFile, FileBlob
from exchange.models import Delivery
from signatures.models import FileVerification, VerificationState
from tests.factories import PASSWORD, AgencyFactory, make_user
from tests.workflows.helpers import directed_case, in_days, incoming, office, outgoing
from tests.workflows.test_drafting import ready_to_sign
from workflows import reports as handling_reports
from workflows import services as wf
from workflows.models import Assignment


def _signed(document, verdict: str = "valid") -> None:
    """A main file whose stored verification found a valid signature (a document signed elsewhere)."""
    blob = FileBlob.objects.create(sha256=f"{document.pk:064d}", size=1, content_type="application/pdf",
                                   storage_name=f"x/{document.pk}")
    DocumentFile.objects.create(document=document, blob=blob, original_name="ky-so.pdf", is_main=True,
                                uploaded_by=document.created_by)
    FileVerification.objects.update_or_create(blob=blob, defaults={
        "state": VerificationState.DONE, "verdict": verdict, "signature_count": 1})


def _sent(document, to) -> Delivery:
    return Delivery.objects.create(document=document, sender_agency=document.agency, recipient_agency=to)


class DashboardTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.o, cls.o2 = office(), office()
        o, o2 = cls.o, cls.o2
        # Agency B: what it sent to A (the electronic arrival) and its own documents, never counted for A.
        cls.b_out, cls.b_in = outgoing(o2, "Công văn của cơ quan B"), incoming(o2, number="90")
        # A, incoming: on paper handled on time (a person of the unit), on paper overdue (the unit), one
        # received electronically in progress (a person of the other unit), three registered and not directed.
        case1 = directed_case(o, targets=[wf.TargetInput(role="lead", user_id=o.handler.pk, deadline=in_days(5))],
                              number="1")
        wf.complete_assignment(o.handler, case1.assignments.get(), outcome="Đã trả lời")
        case2 = directed_case(o, number="2")
        case2.assignments.update(due_date=in_days(-2), deadline=in_days(-2))
        case3 = directed_case(o, targets=[wf.TargetInput(role="lead", user_id=o.other_unit_staff.pk,
                                                         deadline=in_days(3))], number="3")
        cls.in1, cls.in2, cls.in3 = case1.document, case2.document, case3.document
        Delivery.objects.filter(pk=_sent(cls.b_out, o.agency).pk).update(received_document=cls.in3, status="03")
        cls.untouched = [incoming(o, number=str(n)) for n in (4, 5, 6)]
        # A, outgoing: signed digitally and sent; sent only; paper only (drafted by the unit).
        cls.out1, cls.out2, cls.out3 = (outgoing(o, f"Công văn đi {n}") for n in (1, 2, 3))
        _signed(cls.out1)
        _sent(cls.out1, o2.agency)
        _sent(cls.out2, o2.agency)
        type(cls.out1).objects.filter(pk=cls.out1.pk).update(drafting_unit=o.unit)
        cls.draft = ready_to_sign(o)
        province = AgencyFactory(kind=AgencyKind.PROVINCE_COMMITTEE, name="Ủy ban nhân dân tỉnh Thử")
        cls.province_leader = make_user(roles.AGENCY_LEADER, province)
        cls.today = timezone.localdate()

    def client_for(self, user) -> Client:
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    def figures(self, user, **kwargs):
        scope = selectors.dashboard_scope(user, kwargs.pop("agency_id", None))
        start = self.today.replace(month=1, day=1)
        return selectors.dashboard_figures(user, scope, start, self.today)

    # --- figures -----------------------------------------------------------------------------------

    def test_agency_figures_channels_signatures_handling_queues_drafts(self):
        o = self.o
        f = self.figures(o.leader)
        assert f.scope == selectors.Scope(selectors.AGENCY, o.agency.pk)
        t = f.totals
        assert (t["in"], t["in_electronic"], t["in_paper"]) == (6, 1, 5)
        assert (t["out"], t["out_signed"], t["out_unsigned"], t["out_sent"]) == (3, 1, 2, 2)
        assert (t["out_electronic"], t["out_both"], t["out_paper"], t["internal"]) == (1, 1, 1, 0)
        assert f.share(t["out_signed"], t["out"]) == 33.3
        month = [m for m in f.months if m["month"] == self.today.replace(day=1)][0]
        assert (month["in"], month["out"]) == (6, 3)
        assert sum(m["in"] for m in f.months) == 6 and len(f.months) == self.today.month
        by_unit = {row["group"]: row for row in f.handling}
        assert by_unit[o.unit.pk]["total"] == 2 and by_unit[o.unit.pk]["on_time"] == 1
        assert by_unit[o.unit.pk]["overdue"] == 1 and by_unit[o.unit.pk]["days"] is not None
        assert by_unit[o.other_unit.pk]["in_progress"] == 1
        assert f.handling_total["total"] == 3
        # The same counts as workflows' own handling report (the one clerks and leaders print).
        report = handling_reports.handling_report(o.leader, self.today.replace(month=1, day=1), self.today)
        assert report.total.counts == {c: f.handling_total[c] for c in handling_reports.CLASSES}
        assert [(q["group"], q["open"], q["overdue"]) for q in f.unit_queues] == [
            (o.unit.pk, 1, 1), (o.other_unit.pk, 1, 0)]
        assert f.drafts_waiting == 1 and f.drafts_by_signer[0]["current_holder_id"] == o.leader.pk
        # A clerk (register keeper) has the agency's scope too; the other agency's figures differ.
        assert self.figures(o.clerk).totals == t
        b = self.figures(self.o2.leader).totals
        assert (b["in"], b["out"], b["out_sent"]) == (1, 1, 1)

    def test_sql_classification_is_workflows_classify(self):
        rows = Assignment.objects.annotate(cls=selectors.handling_class(self.today)).values_list("pk", "cls")
        assignments = {a.pk: a for a in Assignment.objects.all()}
        assert len(assignments) >= 3
        for pk, cls in rows:
            a = assignments[pk]
            assert cls == handling_reports.classify(a.state, a.due_date, a.completed_at, self.today)

    def test_unit_head_sees_only_their_unit_and_staff_gets_403(self):
        o = self.o
        f = self.figures(o.unit_leader)
        assert f.scope == selectors.Scope(selectors.UNIT, o.agency.pk, o.unit.pk)
        assert (f.totals["in"], f.totals["out"]) == (2, 1)  # directed to the unit; drafted by it
        assert [row["group"] for row in f.handling] == [o.unit.pk]
        assert [q["group"] for q in f.unit_queues] == [o.unit.pk]
        ids = set(selectors.figure_documents(o.unit_leader, f.scope, "in", f.date_from, f.date_to)
                  .values_list("pk", flat=True))
        assert ids == {self.in1.pk, self.in2.pk}
        staff = self.client_for(o.handler)
        assert staff.get(reverse("dashboard:home")).status_code == 403
        assert staff.get(reverse("dashboard:documents") + "?figure=in").status_code == 403
        assert reverse("dashboard:home") not in staff.get(reverse("documents:list")).content.decode()
        api = APIClient()
        api.force_authenticate(o.handler)
        assert api.get("/api/v1/dashboard/").status_code == 403
        assert api.post("/api/v1/reports/", {"report": "clerical", "format": "xlsx", "date_from": "2026-01-01",
                                             "date_to": "2026-01-31"}, format="json").status_code == 403

    def test_province_sees_all_agencies_with_a_filter(self):
        p = self.province_leader
        f = self.figures(p)
        assert f.scope.province
        rows = {row["agency_id"]: row for row in f.by_agency}
        assert rows[self.o.agency.pk]["in"] == 6 and rows[self.o2.agency.pk]["in"] == 1
        assert f.totals["in"] >= 7
        only_b = self.figures(p, agency_id=self.o2.agency.pk)
        assert (only_b.totals["in"], only_b.totals["out"]) == (1, 1)
        # An agency leader elsewhere is kept to their agency, whatever they ask for.
        assert selectors.dashboard_scope(self.o.leader, self.o2.agency.pk).agency_id == self.o.agency.pk
        response = self.client_for(p).get(reverse("dashboard:home"), {"agency": self.o.agency.pk})
        assert response.status_code == 200
        assert response.context["totals"]["in"] == 6
        listed = self.client_for(p).get(reverse("dashboard:targets"),
                                        {"kind": "handling", "group": self.o.agency.pk, "class": "overdue"})
        assert [a.pk for a in listed.context["rows"]] == list(
            Assignment.objects.filter(case__document=self.in2).values_list("pk", flat=True))

    # --- summary tables ----------------------------------------------------------------------------

    def _tallied_equals_live(self, user, agency_id=None, *, tallied: bool = True, start=None):
        scope = selectors.dashboard_scope(user, agency_id)
        start = start or self.today.replace(month=1, day=1)
        with_tallies = selectors.dashboard_figures(user, scope, start, self.today)
        live = selectors.dashboard_figures(user, scope, start, self.today, tallies=False)
        assert (with_tallies.refreshed_at is not None) == tallied, (user, agency_id)
        assert live.refreshed_at is None
        a, b = asdict(with_tallies), asdict(live)
        a.pop("refreshed_at"), b.pop("refreshed_at")
        assert a == b, (user, agency_id)
        return with_tallies

    def test_tallied_figures_equal_the_live_ones_with_secret_documents(self):
        o, o2, p = self.o, self.o2, self.province_leader
        # Secret incoming documents: one handled by the unit (overdue) and shown to the provincial leader, one
        # of each agency nobody of the province was given (never in their figures), one only the clerk sees.
        seen = directed_case(o, secret=True, number="7")
        seen.assignments.update(due_date=in_days(-1))
        documents_services.grant_document_access(o.clerk, seen.document, user=p, confirm=True)
        hidden_b = directed_case(o2, secret=True, number="93").document
        hidden_a = incoming(o, secret=True, number="8")
        assert services.refresh_tallies().as_of == self.today
        # The tallies hold no secret document: the province reads the secret ones it may see live.
        tallied_ids = set(Document.objects.filter(confidentiality=Confidentiality.NORMAL).values_list("pk", flat=True))
        for whole_months in (False, True):
            assert sum(DocumentTally.objects.filter(day__isnull=whole_months).values_list("n", flat=True)) == len(
                tallied_ids)
        scope = selectors.dashboard_scope(p)
        secret = set(selectors.untallied_documents(p, scope).values_list("pk", flat=True))
        assert seen.document.pk in secret and not {hidden_a.pk, hidden_b.pk} & secret
        province = self._tallied_equals_live(p)
        assert province.totals["in"] == Document.objects.filter(
            direction="incoming", confidentiality=Confidentiality.NORMAL).count() + 1
        assert sum(r["overdue"] for r in province.handling) == 2  # in2 and the secret one shown to the province
        for agency in (o.agency.pk, o2.agency.pk):
            self._tallied_equals_live(p, agency)
        for start in (self.today - timedelta(days=45), self.today, self.today - timedelta(days=400)):
            self._tallied_equals_live(p, start=start)  # ragged ends: day rows beside the whole months
        leader = self._tallied_equals_live(o.leader)
        assert leader.totals["in"] == 6 + (seen.document.pk in set(
            selectors.scope_documents(o.leader, leader.scope).values_list("pk", flat=True)))
        assert self._tallied_equals_live(o.clerk).totals["in"] == 8  # the clerk registered both secret ones
        self._tallied_equals_live(o2.leader)
        self._tallied_equals_live(o.unit_leader, tallied=False)  # the unit scope stays live
        # The page says how old the figures are; a document registered since is in the next refresh.
        client = self.client_for(p)
        assert 'id="figures-as-of"' in client.get(reverse("dashboard:home")).content.decode()
        incoming(o, number="9")
        assert self.figures(p).totals["in"] == province.totals["in"]
        assert selectors.dashboard_figures(p, scope, self.today.replace(month=1, day=1), self.today,
                                           tallies=False).totals["in"] == province.totals["in"] + 1
        tasks.refresh_tallies()
        assert self.figures(p).totals["in"] == province.totals["in"] + 1

    def test_refresh_is_idempotent_and_figures_fall_back_to_live(self):
        p = self.province_leader
        scope = selectors.dashboard_scope(p)
        # Never refreshed (a new installation): every figure is counted live, and the page says nothing.
        assert selectors.tally_refresh(p, scope) is None and self.figures(p).refreshed_at is None
        assert 'id="figures-as-of"' not in self.client_for(p).get(reverse("dashboard:home")).content.decode()

        def rows():
            return [sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields
                                                        if not f.primary_key]), key=str)
                    for model in (DocumentTally, HandlingTally, QueueTally)]

        from eoffice.celery import TASK_ROUTES, app

        assert TASK_ROUTES["dashboard.tasks.refresh_tallies"] == {"queue": "maintenance"}
        beat = [e for e in app.conf.beat_schedule.values() if e["task"] == "dashboard.tasks.refresh_tallies"]
        assert len(beat) == 1 and beat[0]["schedule"] < selectors.TALLY_MAX_AGE.total_seconds()
        assert tasks.refresh_tallies.acks_late
        tasks.refresh_tallies()
        first = rows()
        assert all(first)
        tasks.refresh_tallies()  # redelivered, or run again by beat: the same rows, one refresh row
        assert rows() == first and TallyRefresh.objects.count() == 1
        refresh = TallyRefresh.objects.get()
        assert selectors.tally_refresh(p, scope) == refresh
        # Too old (a stopped worker) or classified as of another day: live again.
        assert selectors.tally_refresh(p, scope, now=refresh.refreshed_at + timedelta(minutes=11)) is None
        assert selectors.tally_refresh(p, scope, as_of=self.today + timedelta(days=1)) is None

    # --- the page, the lists behind the figures and the API ----------------------------------------

    def test_page_charts_and_every_list_shows_exactly_what_its_figure_counted(self):
        o = self.o
        client = self.client_for(o.leader)
        response = client.get(reverse("dashboard:home"))
        assert response.status_code == 200
        html = response.content.decode()
        main = html.split("<main", 1)[1]
        assert main.count("<svg") == 4 and "<script" not in main and 'style="' not in main
        assert 'pattern id="months-hatch"' in main and "<text" in main
        totals = response.context["totals"]
        for figure, link in response.context["links"].items():
            listed = client.get(link)
            assert listed.status_code == 200, figure
            ids = [d.pk for d in listed.context["page"]]
            assert len(ids) == totals[figure], figure
            assert f'href="{link.replace("&", "&amp;")}"' in html
        assert not {self.b_in.pk, self.b_out.pk} & {
            d.pk for d in client.get(response.context["links"]["in"]).context["page"]}
        electronic = client.get(response.context["links"]["in_electronic"]).context["page"]
        assert [d.pk for d in electronic] == [self.in3.pk]
        # The handling figures open workflows' own list behind the handling report, with the same rows.
        unit_row = [row for row in response.context["handling_rows"] if row["key"] == str(o.unit.pk)][0]
        overdue_cell = unit_row["cells"][1 + handling_reports.CLASSES.index("overdue")]
        assert overdue_cell["link"].startswith(reverse("workflows:report_list"))
        listed = client.get(overdue_cell["link"])
        assert [a.case.document_id for a in listed.context["rows"]] == [self.in2.pk]
        queue = response.context["unit_queues"][0]
        assert [a.case.document_id for a in client.get(queue["overdue_link"]).context["rows"]] == [self.in2.pk]
        drafts = client.get(response.context["drafts_link"])
        assert [d.pk for d in drafts.context["page"]] == [self.draft.pk]
        # The menu leads to the dashboard; the dashboard to the handling reports.
        assert f'href="{reverse("dashboard:home")}"' in html and reverse("workflows:reports") in html
        # A bad period answers 400.
        assert client.get(reverse("dashboard:home"), {"date_from": "31/12/2026", "date_to": "01/01/2026"}
                          ).status_code == 400

    def test_api_figures_same_scope_rule(self):
        api = APIClient()
        api.force_authenticate(self.o.unit_leader)
        body = api.get("/api/v1/dashboard/").json()
        assert body["scope"] == {"level": "unit", "agency": self.o.agency.pk, "unit": self.o.unit.pk}
        assert body["documents"]["in"] == 2 and body["documents"]["out"] == 1
        api.force_authenticate(self.o.leader)
        body = api.get("/api/v1/dashboard/", {"date_from": self.today.replace(day=1).isoformat()}).json()
        assert body["documents"]["in_electronic"] == 1 and body["shares"]["out_electronic"] == 33.3
        assert body["drafts_waiting"] == 1 and len(body["months"]) == 1

    # --- reports, the task, downloads, audit --------------------------------------------------------

    def _request(self, user, kind: str, fmt: str, **kwargs) -> ReportJob:
        with self.captureOnCommitCallbacks(execute=True):
            job = services.request_report(user, kind=kind, fmt=fmt, date_from=self.today.replace(month=1, day=1),
                                          date_to=self.today, **kwargs)
        job.refresh_from_db()
        return job

    def test_clerical_xlsx_and_handling_pdf_with_their_figures_and_audit(self):
        o = self.o
        job = self._request(o.leader, "clerical", "xlsx")
        assert job.state == JobState.DONE and job.progress == 100, job.error
        event = AuditEvent.objects.get(verb=events.REPORT_REQUESTED, target_id=str(job.pk))
        assert event.actor_id == o.leader.pk and event.data["kind"] == "clerical"
        client = self.client_for(o.leader)
        response = client.get(reverse("dashboard:job_download", args=[job.pk]))
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
        assert rows[2][0] == "BÁO CÁO THỐNG KÊ CÔNG TÁC VĂN THƯ"
        total = [r for r in rows if r[0] == "Tổng cộng"][0]
        assert total[1:] == [6, 1, 5, 3, 1, 1, 1, 1, 0]
        assert [r for r in rows if r[0] == "Tỷ lệ văn bản đi được ký số (%)"][0][8] == "33.3"
        assert AuditEvent.objects.filter(verb=events.REPORT_DOWNLOADED, target_id=str(job.pk),
                                         actor=o.leader).count() == 1
        # Only the requester: anyone else gets 404 (page, status and API), and nothing is audited for them.
        other = self.client_for(o.clerk)
        assert other.get(reverse("dashboard:job_download", args=[job.pk])).status_code == 404
        assert other.get(reverse("dashboard:job_status", args=[job.pk])).status_code == 404
        api = APIClient()
        api.force_authenticate(o.clerk)
        assert api.get(f"/api/v1/reports/{job.pk}/download/").status_code == 404
        assert AuditEvent.objects.filter(verb=events.REPORT_DOWNLOADED, target_id=str(job.pk)).count() == 1
        pdf_job = self._request(o.leader, "handling", "pdf")
        text = self._pdftotext(default_storage.open(pdf_job.file.name).read())
        assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT VĂN BẢN ĐẾN" in text and o.unit.name in text
        # The jobs page lists both, with their download links; the status answers JSON for the script.
        page = client.get(reverse("dashboard:jobs")).content.decode()
        assert reverse("dashboard:job_download", args=[pdf_job.pk]) in page and "js/jobs.js" in page
        assert client.get(reverse("dashboard:job_status", args=[job.pk])).json()["state"] == "done"

    def test_agencies_report_is_provincial_and_api_jobs(self):
        with pytest.raises(Exception) as refused:
            services.request_report(self.o.leader, kind="agencies", fmt="pdf", date_from=self.today,
                                    date_to=self.today)
        assert refused.type.__name__ == "PermissionDenied"
        api = APIClient()
        api.force_authenticate(self.province_leader)
        with self.captureOnCommitCallbacks(execute=True):
            created = api.post("/api/v1/reports/", {
                "report": "agencies", "format": "pdf", "date_from": self.today.replace(month=1, day=1).isoformat(),
                "date_to": self.today.isoformat()}, format="json")
        assert created.status_code == 201, created.content
        job_id = created.json()["id"]
        status = api.get(f"/api/v1/reports/{job_id}/").json()
        assert status["state"] == "done" and status["progress"] == 100
        assert [j["id"] for j in api.get("/api/v1/reports/").json()] == [job_id]
        download = api.get(f"/api/v1/reports/{job_id}/download/")
        assert download.status_code == 200
        text = self._pdftotext(b"".join(download.streaming_content))
        assert "BÁO CÁO TỔNG HỢP TÌNH HÌNH XỬ LÝ VĂN BẢN CỦA CÁC CƠ QUAN" in text
        assert self.o.agency.name in text and self.o2.agency.name in text

    def test_task_is_idempotent_one_file_and_failures_show_their_reason(self):
        job = self._request(self.o.leader, "clerical", "pdf")
        finished, name = job.finished_at, job.file.name
        services.build_report(job.pk)  # redelivered after it was done: returns
        job.refresh_from_db()
        assert (job.finished_at, job.file.name) == (finished, name)
        ReportJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING)  # a run that died, then ran again
        services.build_report(job.pk)
        job.refresh_from_db()
        assert job.state == JobState.DONE and job.file.name == name
        stem = name.rsplit("/", 1)[1].rsplit(".", 1)[0]
        assert [f for f in default_storage.listdir("reports")[1] if f.startswith(stem)] == [f"{stem}.pdf"]
        # The requester lost the right to the report meanwhile: the job fails with the reason.
        failing = ReportJob.objects.create(requested_by=self.o.handler, kind="clerical", format="xlsx",
                                           params={"date_from": "2026-01-01", "date_to": "2026-01-31"})
        services.build_report(failing.pk)
        failing.refresh_from_db()
        assert failing.state == JobState.FAILED and failing.error and not failing.file

    @staticmethod
    def _pdftotext(content: bytes) -> str:
        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext (poppler-utils) missing")
        return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True,
                              check=True).stdout.decode()


def test_no_dashboard_for_anonymous_or_without_agency():
    from django.contrib.auth.models import AnonymousUser

    assert selectors.dashboard_scope(AnonymousUser()) is None
