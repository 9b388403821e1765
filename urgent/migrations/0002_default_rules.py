"""Default urgent rules, one of each kind; administrators edit or deactivate them under 热线要情 › 要情规则."""

from django.db import migrations

# name, kind, tag codes, threshold, keywords, note
RULES = [
    ("六类急难愁盼红色预警", "red_tag", ["jinan"], None, "", "带“六类急难愁盼”标签的工单变为红色预警时推送。"),
    ("紧急警情", "emergency", [], None, "", "诉求中有正在发生的火情、燃气泄漏、违法犯罪、伤病或交通事故。"),
    ("多人反映同一问题", "callers", [], 5, "", "本单、并入本单和关联的工单中有 5 个及以上不同诉求人。"),
    (
        "媒体关注",
        "media",
        [],
        None,
        "媒体、记者、曝光、网络舆情、舆情、电视台、上热搜、微博热搜、自媒体",
        "诉求提到媒体或舆情。",
    ),
    (
        "涉企紧急",
        "enterprise",
        [],
        None,
        "停产、停工、停业、无法生产、断电、断水、欠薪、讨薪、集体",
        "涉企诉求为紧急/特急，或提到停产、欠薪等。",
    ),
]


def seed(apps, schema_editor):
    Rule = apps.get_model("urgent", "UrgentRule")
    for name, kind, tags, threshold, keywords, note in RULES:
        Rule.objects.get_or_create(
            name=name, defaults={"kind": kind, "tags": tags, "threshold": threshold, "keywords": keywords, "note": note}
        )


def unseed(apps, schema_editor):
    apps.get_model("urgent", "UrgentRule").objects.filter(name__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("urgent", "0001_initial"), ("orders", "0002_default_rules_and_tags")]

    operations = [migrations.RunPython(seed, unseed)]
