"""Factories for tests: agencies, units, people with roles, documents registered through services."""

from __future__ import annotations

import itertools

import factory
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import Agency, AgencyKind, Unit, User
from documents.models import DocumentType

PASSWORD = "test-pass-123"
_counter = itertools.count(1)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Sở Thử nghiệm {n}")
    abbreviation = factory.Sequence(lambda n: f"STN{n}")
    kind = AgencyKind.PROVINCE_BODY
    identifier = factory.Sequence(lambda n: f"H10.{n:02d}")
    place_name = "Hòa Bình"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Phòng {n}")
    abbreviation = factory.Sequence(lambda n: f"P{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"Nguyễn Văn {n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.gov.vn")
    agency = factory.SubFactory(AgencyFactory)
    unit = None
    position = "Chuyên viên"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


def make_user(role: str | None = None, agency: Agency | None = None, **kwargs) -> User:
    """A fresh user (permission caches empty) with one role in an agency."""
    params = {"role": role, **kwargs}
    if agency is not None:
        params["agency"] = agency
    user = UserFactory(**params)
    return User.objects.get(pk=user.pk)


def clerk(agency: Agency | None = None, **kwargs) -> User:
    return make_user(roles.CLERK, agency, **kwargs)


def doc_type(code: str = "quyet-dinh") -> DocumentType:
    return DocumentType.objects.get(code=code)


def make_pdf(pages: int = 1, text: str = "Quyết định phê duyệt kế hoạch") -> bytes:
    """A real PDF with Vietnamese text on each page (reportlab, the shipped DejaVu font)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from documents.pdf import register_fonts

    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(pages):
        pdf.setFont("DejaVuSans", 12)
        pdf.drawString(72, 760, f"{text} – trang {page + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
