"""The organisation tree, people and delegations of authority."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    PROVINCE_COMMITTEE = "province_committee", _("Provincial People's Committee")
    PROVINCE_BODY = "province_body", _("Provincial body (office, department)")
    DISTRICT_COMMITTEE = "district_committee", _("District People's Committee")
    COMMUNE_COMMITTEE = "commune_committee", _("Commune People's Committee")
    OTHER = "other", _("Other agency")


class Agency(models.Model):
    """An agency that issues documents under its own seal: the province's committee, a department,
    a district, a commune. Internal units (phòng, ban) are `Unit` rows of an agency."""

    name = models.CharField(_("name"), max_length=200)
    abbreviation = models.CharField(
        _("abbreviation"), max_length=20, help_text=_("Used in document notations, e.g. UBND, SNV.")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=AgencyKind.choices, default=AgencyKind.OTHER)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("governing agency"),
    )
    identifier = models.CharField(
        _("identifier (Decision 20/2020)"), max_length=35, unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9.\-]+$", _("Letters, digits, dots and hyphens only."))],
        help_text=_("Electronic identifier of the agency, up to 35 characters."),
    )
    legacy_code = models.CharField(
        _("legacy code (13 characters)"), max_length=13, blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9.\-]{0,13}$", _("Up to 13 letters, digits, dots or hyphens."))],
    )
    place_name = models.CharField(_("place name"), max_length=100, blank=True, help_text=_("Place name printed before the date, e.g. Hoa Binh."))
    address = models.CharField(_("address"), max_length=300, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    seal_image = models.ImageField(_("seal image"), upload_to="seals/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def organ_id(self) -> str:
        """The identifier used in PL VI metadata (OrganId) and in document identifiers."""
        return self.identifier


class Unit(models.Model):
    """An internal unit of an agency (Văn phòng, Phòng Tổ chức...)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="units", verbose_name=_("agency"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent unit")
    )
    name = models.CharField(_("name"), max_length=200)
    abbreviation = models.CharField(_("abbreviation"), max_length=20, help_text=_("e.g. VP, TCCB."))
    identifier = models.CharField(_("identifier (Decision 20/2020)"), max_length=35, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["agency__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "abbreviation"], name="unit_unique_abbreviation_per_agency")
        ]

    def __str__(self) -> str:
        return f"{self.name} – {self.agency.abbreviation}" if self.agency_id else self.name


class User(AbstractUser):
    """A person. Work e-mail, agency, unit and position; roles are Django groups."""

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="people", verbose_name=_("agency")
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="people", verbose_name=_("unit")
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    sessions_revoked_at = models.DateTimeField(
        _("logged out everywhere at"), null=True, blank=True, editable=False,
        help_text=_("Sessions and API tokens from before this moment no longer work."),
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["full_name", "username"]

    def __str__(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret=None) -> str:
        """Django checks this hash, kept in each session, on every request: a session whose hash no longer
        matches is ended. Django's hash covers the password (a new password ends every session); the moment
        of the last "log out everywhere" is added so that ending every session needs no search through them
        (accounts.services.revoke_sessions). Until that first happens the hash is Django's own."""
        if self.sessions_revoked_at is None:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "accounts.User.get_session_auth_hash", f"{self.password}|{self.sessions_revoked_at.isoformat()}",
            secret=secret, algorithm="sha256",
        ).hexdigest()

    def save(self, *args, **kwargs) -> None:
        """A new password (whatever sets it: services, the admin's password form, `changepassword`) also
        ends the person's API tokens; their sessions end by the hash above."""
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user_id=self.pk).delete()

    @property
    def display_name(self) -> str:
        """The person's name (certificates, signature blocks): never the username when a name is known."""
        return str(self)

    @property
    def name_and_position(self) -> str:
        """How people are shown to others (histories, reports, printouts, lists): "Full Name (Position)".
        The username is an identifier for logging in, not a name, and appears only when nothing else is known."""
        return f"{self.display_name} ({self.position})" if self.position else self.display_name


class AuthorityPrefix(models.TextChoices):
    NONE = "", _("(none)")
    TM = "TM.", "TM."
    KT = "KT.", "KT."
    Q = "Q.", "Q."
    TL = "TL.", "TL."
    TUQ = "TUQ.", "TUQ."


class DelegationQuerySet(models.QuerySet):
    def active_on(self, day: date) -> DelegationQuerySet:
        return self.filter(revoked_at__isnull=True, valid_from__lte=day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def delegator_ids(self, delegate, day: date) -> QuerySet:
        """Ids of the people `delegate` may act for on `day`, in the delegate's agency (a values query:
        use it as a subquery, or list() it to give the planner literal ids)."""
        return self.active_on(day).filter(delegate_id=delegate.pk, agency_id=delegate.agency_id).values_list(
            "delegator_id", flat=True
        )


class Delegation(models.Model):
    """Who may act for whom, and under which authority prefix, between two dates."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="delegations", verbose_name=_("agency"))
    delegator = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="delegations_given", verbose_name=_("on behalf of")
    )
    delegate = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="delegations_received", verbose_name=_("delegate")
    )
    authority_prefix = models.CharField(
        _("authority prefix"), max_length=5, choices=AuthorityPrefix.choices, default=AuthorityPrefix.KT
    )
    scope = models.CharField(_("scope"), max_length=300, blank=True, help_text=_("What the delegate may sign or decide."))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        verbose_name = _("delegation of authority")
        verbose_name_plural = _("delegations of authority")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="delegation_dates_ordered",
            ),
            models.CheckConstraint(condition=~Q(delegator=models.F("delegate")), name="delegation_not_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.authority_prefix} {self.delegator} → {self.delegate}"
