"""The roles of hotline staff and what each one's home page is."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR = "operator", _("话务员")
    DISPATCHER = "dispatcher", _("派单员")
    HANDLER = "handler", _("承办人")
    CALLBACK = "callback", _("回访员")
    SUPERVISOR = "supervisor", _("督办员")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("管理员")


# Roles that work inside the hotline centre and see every order; a handler sees only
# its own unit's (and, as a unit manager, its sub-units').
CITYWIDE_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.CALLBACK, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
