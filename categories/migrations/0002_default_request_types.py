from django.db import migrations

DEFAULT_REQUEST_TYPES = [
    ("consult", "咨询"),
    ("help", "求助"),
    ("complaint", "投诉"),
    ("report", "举报"),
    ("suggestion", "建议"),
    ("praise", "表扬"),
    ("other", "其他"),
]


def create_types(apps, schema_editor):
    RequestType = apps.get_model("categories", "RequestType")
    for order, (code, name) in enumerate(DEFAULT_REQUEST_TYPES):
        RequestType.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("categories", "0001_initial")]
    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
