"""REST API of the organisation tree, people and delegations: thin views over accounts.services.

Anyone logged in reads the agency tree and units (needed to pick recipients) and the people of their
own agency (needed to share a document). Administrators read the people and delegations of the agencies
they administer and change those agencies, their units, people and delegations
(accounts.selectors.administered_agencies: their own agency; superusers every agency): another agency's
row is not found (404) for a change, and the services refuse to point a row at an agency out of scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from eoffice.api import ActionPermissions, JSONOnlyMixin, Pagination

from . import selectors, services
from .models import Agency, Delegation, Unit, User
from .serializers import AgencySerializer, DelegationSerializer, MeSerializer, UnitSerializer, UserSerializer


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _bool_param(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name, "").strip().lower()
    if value in {"1", "true", "yes"}:
        return True
    if value in {"0", "false", "no"}:
        return False
    return None


class MeView(JSONOnlyMixin, GenericAPIView):
    """The person behind the token or session: who they are, where they work, what they may do."""

    serializer_class = MeSerializer

    def get_queryset(self) -> QuerySet[User]:  # pragma: no cover - only for schema generation
        return User.objects.none()

    def get(self, request: Request) -> Response:
        user = User.objects.select_related("agency", "unit").prefetch_related("groups").get(pk=request.user.pk)
        return Response(self.get_serializer(user).data)


class _WriteThroughServices(JSONOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """List, read, create and change (no delete: the tree and people are history of the documents).
    Creating and changing go through `save(actor, instance, validated_data)` of accounts.services."""

    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    model: type | None = None

    # Every action but reading acts on a row: it finds the row among the administered agencies' only
    # (another agency's row is not found), whatever actions are added later.
    reading_actions = frozenset({"list", "retrieve"})

    def save(self, actor, instance, data: dict):  # pragma: no cover - each view names its service
        raise NotImplementedError

    def administered(self, queryset: QuerySet, field: str = "agency") -> QuerySet:
        """`queryset` narrowed to the administered agencies' rows unless the action only reads."""
        if self.action not in self.reading_actions:
            return selectors.in_administered_agencies(queryset, self.request.user, field)
        return queryset

    def perform_create(self, serializer) -> None:
        serializer.instance = self.save(self.request.user, self.model(), dict(serializer.validated_data))

    def perform_update(self, serializer) -> None:
        serializer.instance = self.save(self.request.user, serializer.instance, dict(serializer.validated_data))


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("parent", int, description="Only the agencies governed by this agency."),
            OpenApiParameter("kind", str, description="Only agencies of this kind."),
            OpenApiParameter("active", bool, description="Only active (true) or inactive (false) agencies."),
            OpenApiParameter("q", str, description="Name, abbreviation or identifier contains this text."),
        ]
    )
)
class AgencyViewSet(_WriteThroughServices):
    """The agency tree (parent, kind, identifiers). Administrators create and change agencies."""

    serializer_class = AgencySerializer
    model = Agency
    required_permissions = {
        "create": ["accounts.add_agency"],
        "update": ["accounts.change_agency"],
        "partial_update": ["accounts.change_agency"],
    }

    def get_queryset(self) -> QuerySet[Agency]:
        agencies = Agency.objects.order_by("name", "id")
        if (parent := _int_param(self.request, "parent")) is not None:
            agencies = agencies.filter(parent_id=parent)
        if kind := self.request.query_params.get("kind"):
            agencies = agencies.filter(kind=kind)
        if (active := _bool_param(self.request, "active")) is not None:
            agencies = agencies.filter(is_active=active)
        if text := self.request.query_params.get("q", "").strip():
            agencies = agencies.filter(
                Q(name__icontains=text) | Q(abbreviation__icontains=text) | Q(identifier__icontains=text)
            )
        return self.administered(agencies, "pk")

    def save(self, actor, instance: Agency, data: dict) -> Agency:
        return services.save_agency(actor, instance, data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("agency", int, description="Only the units of this agency."),
            OpenApiParameter("active", bool, description="Only active (true) or inactive (false) units."),
        ]
    )
)
class UnitViewSet(_WriteThroughServices):
    """Internal units of the agencies. Administrators create and change units."""

    serializer_class = UnitSerializer
    model = Unit
    required_permissions = {
        "create": ["accounts.add_unit"],
        "update": ["accounts.change_unit"],
        "partial_update": ["accounts.change_unit"],
    }

    def get_queryset(self) -> QuerySet[Unit]:
        units = Unit.objects.order_by("agency_id", "name", "id")
        if (agency := _int_param(self.request, "agency")) is not None:
            units = units.filter(agency_id=agency)
        if (active := _bool_param(self.request, "active")) is not None:
            units = units.filter(is_active=active)
        return self.administered(units)

    def save(self, actor, instance: Unit, data: dict) -> Unit:
        return services.save_unit(actor, instance, data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("agency", int, description="Only the people of this agency (administrators)."),
            OpenApiParameter("unit", int, description="Only the people of this unit."),
            OpenApiParameter("q", str, description="Username or full name contains this text."),
        ]
    )
)
class UserViewSet(_WriteThroughServices):
    """People. Administrators (accounts.view_user) see the people of the agencies they administer and
    manage their accounts and roles; others see the active people of their own agency, e.g. to share a
    document with a colleague."""

    serializer_class = UserSerializer
    model = User
    required_permissions = {
        "create": ["accounts.add_user"],
        "update": ["accounts.change_user"],
        "partial_update": ["accounts.change_user"],
        "reset_second_factor": ["accounts.change_user"],
    }

    def get_queryset(self) -> QuerySet[User]:
        user = self.request.user
        people = User.objects.prefetch_related("groups").order_by("full_name", "username", "id")
        if getattr(self, "swagger_fake_view", False):  # schema generation: no person behind the request
            return people.none()
        if self.action not in self.reading_actions:
            people = selectors.in_administered_agencies(people, user)
        elif user.has_perm("accounts.view_user"):
            people = selectors.in_administered_agencies(people, user) | people.filter(pk=user.pk)
        elif not user.agency_id:
            return people.filter(pk=user.pk)
        else:
            people = people.filter(agency_id=user.agency_id, is_active=True)
        if (agency := _int_param(self.request, "agency")) is not None:
            people = people.filter(agency_id=agency)
        if (unit := _int_param(self.request, "unit")) is not None:
            people = people.filter(unit_id=unit)
        if text := self.request.query_params.get("q", "").strip():
            people = people.filter(Q(username__icontains=text) | Q(full_name__icontains=text))
        return people

    def save(self, actor, instance: User, data: dict) -> User:
        role_names = data.pop("roles", None)
        password = data.pop("password", None)
        return services.save_user(actor, instance, role_names, changed=data, password=password)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"], url_path="reset-second-factor")
    def reset_second_factor(self, request: Request, pk=None) -> Response:
        """Remove the person's authenticator app and backup codes (a lost phone): they enrol again at their
        next log-in if their account requires a second factor. Audited; people of other agencies: 404."""
        person = services.reset_second_factor(request.user, self.get_object())
        return Response(self.get_serializer(person).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("agency", int, description="Only the delegations of this agency."),
            OpenApiParameter("active", bool, description="Only delegations in force today (true)."),
        ]
    )
)
class DelegationViewSet(_WriteThroughServices):
    """Delegations of authority. Administrators see and manage those of the agencies they administer;
    everyone sees their own (given or received)."""

    serializer_class = DelegationSerializer
    model = Delegation
    required_permissions = {
        "create": ["accounts.add_delegation"],
        "update": ["accounts.change_delegation"],
        "partial_update": ["accounts.change_delegation"],
        "revoke": ["accounts.change_delegation"],
    }

    def get_queryset(self) -> QuerySet[Delegation]:
        user = self.request.user
        delegations = Delegation.objects.order_by("-valid_from", "-id")
        if getattr(self, "swagger_fake_view", False):
            return delegations.none()
        if self.action not in self.reading_actions:
            delegations = selectors.in_administered_agencies(delegations, user)
        else:
            own = Q(delegator_id=user.pk) | Q(delegate_id=user.pk)
            if user.has_perm("accounts.view_delegation"):
                own |= Q(agency_id__in=selectors.administered_agencies(user).values("pk"))
            delegations = delegations.filter(own)
        if (agency := _int_param(self.request, "agency")) is not None:
            delegations = delegations.filter(agency_id=agency)
        if _bool_param(self.request, "active"):
            delegations = delegations.active_on(timezone.localdate())
        return delegations

    def save(self, actor, instance: Delegation, data: dict) -> Delegation:
        return services.save_delegation(actor, instance, data)

    @extend_schema(request=None, responses=DelegationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk=None) -> Response:
        """End the delegation now (it stays in the records as revoked)."""
        delegation = services.revoke_delegation(request.user, self.get_object())
        return Response(self.get_serializer(delegation).data)
