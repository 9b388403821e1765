"""督办单 numbers get their own daily sequence; until now they took numbers from the work orders' one.

Each day that already has 督办单 starts from its highest number, so new numbers never repeat an old one.
"""

from datetime import date

from django.db import migrations, models


def start_from_existing(apps, schema_editor):
    SupervisionOrder = apps.get_model("supervision", "SupervisionOrder")
    SupervisionCounter = apps.get_model("supervision", "SupervisionCounter")
    last: dict[date, int] = {}
    for number in SupervisionOrder.objects.values_list("number", flat=True).iterator():
        # DB + YYYYMMDD + sequence
        try:
            day = date(int(number[2:6]), int(number[6:8]), int(number[8:10]))
            sequence = int(number[10:])
        except ValueError:
            continue
        last[day] = max(last.get(day, 0), sequence)
    SupervisionCounter.objects.bulk_create(SupervisionCounter(day=day, last=n) for day, n in last.items())


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0005_spot_checks"),
    ]

    operations = [
        migrations.CreateModel(
            name="SupervisionCounter",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False)),
                ("last", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(start_from_existing, migrations.RunPython.noop),
    ]
