"""Default time limits of domain.md and the standard tags; administrators edit them afterwards."""

from decimal import Decimal

from django.db import migrations

# name, precedence, request type code, priority, enterprise, sign (value, unit), finish (value, unit)
RULES = [
    ("默认时限", 0, None, "", None, ("2", "working_hours"), ("5", "working_days")),
    ("咨询", 10, "consult", "", None, ("2", "working_hours"), ("1", "working_days")),
    ("求助", 10, "help", "", None, ("2", "working_hours"), ("5", "working_days")),
    ("投诉", 10, "complaint", "", None, ("2", "working_hours"), ("5", "working_days")),
    ("举报", 10, "report", "", None, ("2", "working_hours"), ("5", "working_days")),
    ("建议", 10, "suggestion", "", None, ("2", "working_hours"), ("10", "working_days")),
    ("涉企诉求", 50, None, "", True, ("2", "working_hours"), ("3", "working_days")),
    ("紧急", 100, None, "urgent", None, ("0.5", "calendar_hours"), ("24", "calendar_hours")),
    ("特急", 100, None, "critical", None, ("0.5", "calendar_hours"), ("24", "calendar_hours")),
]
TAGS = [("jinan", "六类急难愁盼"), ("media", "媒体关注"), ("leader", "领导关注"), ("repeat", "重复诉求")]


def seed(apps, schema_editor):
    Rule = apps.get_model("orders", "TimeLimitRule")
    RequestType = apps.get_model("categories", "RequestType")
    Tag = apps.get_model("orders", "Tag")
    for name, precedence, type_code, priority, enterprise, sign, finish in RULES:
        Rule.objects.get_or_create(
            name=name,
            defaults={
                "precedence": precedence,
                "request_type": RequestType.objects.filter(code=type_code).first() if type_code else None,
                "priority": priority,
                "is_enterprise": enterprise,
                "sign_limit": Decimal(sign[0]),
                "sign_unit": sign[1],
                "finish_limit": Decimal(finish[0]),
                "finish_unit": finish[1],
            },
        )
    for code, name in TAGS:
        Tag.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("categories", "0002_default_request_types")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
