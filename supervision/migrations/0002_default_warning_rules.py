from decimal import Decimal

from django.db import migrations

# The domain defaults: orange 24 h and red 48 h after dispatch without signing, yellow under a quarter
# of the time left; the six urgent categories (六类急难愁盼) have their own row with the same hours.
RULES = [(None, "0.25", "24", "48"), ("jinan", "0.25", "24", "48")]


def add(apps, schema_editor):
    WarningRule = apps.get_model("supervision", "WarningRule")
    Tag = apps.get_model("orders", "Tag")
    for code, share, orange, red in RULES:
        tag = Tag.objects.filter(code=code).first() if code else None
        if code and tag is None:
            continue
        WarningRule.objects.get_or_create(
            tag=tag, defaults={"yellow_share": Decimal(share), "orange_hours": Decimal(orange), "red_hours": Decimal(red)}
        )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial"), ("orders", "0002_default_rules_and_tags")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
