"""API shapes of the organisation tree, people and delegations. Validation of meaning is in
accounts.services; these only parse and present."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import roles
from .models import Agency, AgencyKind, Delegation, Unit, User

# Permissions a client may want to know to show or hide its actions.
PERMISSIONS_OF_INTEREST = sorted({name for names in roles.ROLE_PERMISSIONS.values() for name in names})


@extend_schema_field(
    {"type": "string", "enum": AgencyKind.values, "description": "\n".join(f"* `{k}` - {v}" for k, v in AgencyKind.choices)},
    component_name="AgencyKindEnum",
)
class AgencyKindField(serializers.ChoiceField):
    """Agency kinds under their own schema name (the register's `kind` is another set of choices)."""

    def __init__(self, **kwargs):
        super().__init__(choices=AgencyKind.choices, **kwargs)


class AgencySerializer(serializers.ModelSerializer):
    kind = AgencyKindField(required=False)

    class Meta:
        model = Agency
        fields = [
            "id", "name", "abbreviation", "kind", "parent", "identifier", "legacy_code", "place_name", "address",
            "email", "phone", "is_active",
        ]


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "agency", "parent", "name", "abbreviation", "identifier", "is_active"]


def _role_names(user: User) -> list[str]:
    # Uses the prefetched groups when the view prefetched them.
    return sorted(group.name for group in user.groups.all() if group.name in roles.ROLE_PERMISSIONS)


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=list(roles.ROLE_PERMISSIONS)), required=False,
        help_text="Role names (Django groups from accounts.roles). Leave out to keep the current roles.",
    )
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}, trim_whitespace=False,
        help_text="Sets the password. Without one a new person cannot log in until it is set.",
    )

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email", "agency", "unit", "position", "is_active", "roles", "password"]

    def to_representation(self, instance: User) -> dict:
        data = super().to_representation(instance)
        data["roles"] = _role_names(instance)
        return data


class MeSerializer(serializers.ModelSerializer):
    agency = AgencySerializer(read_only=True)
    unit = UnitSerializer(read_only=True)
    roles = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email", "agency", "unit", "position", "roles", "permissions"]
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        return _role_names(user)

    def get_permissions(self, user: User) -> list[str]:
        granted = user.get_all_permissions()
        return [name for name in PERMISSIONS_OF_INTEREST if name in granted]


class DelegationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Delegation
        fields = [
            "id", "agency", "delegator", "delegate", "authority_prefix", "scope", "valid_from", "valid_to",
            "revoked_at", "created_at",
        ]
        read_only_fields = ["revoked_at", "created_at"]

