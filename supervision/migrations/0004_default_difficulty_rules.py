from django.db import migrations

# Defaults from the domain: two or more returns, two or more reopenings, three or more units,
# overdue by ten days, five or more callers on one issue.
RULES = [
    ("returns", 2, "unclear_duty"),
    ("reopens", 2, "other"),
    ("units", 3, "unclear_duty"),
    ("overdue_days", 10, "legacy"),
    ("callers", 5, "interests"),
]


def add(apps, schema_editor):
    DifficultyRule = apps.get_model("supervision", "DifficultyRule")
    for kind, threshold, cause in RULES:
        DifficultyRule.objects.get_or_create(kind=kind, defaults={"threshold": threshold, "cause": cause})


class Migration(migrations.Migration):
    dependencies = [("supervision", "0003_difficult_whistles")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
