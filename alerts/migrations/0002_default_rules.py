from django.db import migrations

# The detector's defaults (alerts/detector.py): a 2-hour burst against the same hours of the previous 8 weeks,
# a 7-day rise against the previous 4 weeks.
RULES = [("burst", 2, 8, 5, 3.0, 0.0001), ("rise", 168, 4, 10, 1.5, 0.001)]


def add(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    for kind, hours, weeks, count, ratio, p in RULES:
        AlertRule.objects.get_or_create(
            kind=kind,
            defaults={"window_hours": hours, "baseline_weeks": weeks, "min_count": count, "min_ratio": ratio, "max_p": p},
        )


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
