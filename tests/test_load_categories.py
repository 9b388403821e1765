from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from categories.models import Category

CSV = Path(__file__).resolve().parent.parent / "categories" / "data" / "categories.csv"


@pytest.mark.django_db
def test_loads_the_three_level_tree_with_517_leaves():
    call_command("load_categories", str(CSV))
    assert Category.objects.filter(level=1).count() == 15
    assert Category.objects.leaves().count() == 517
    leaf = Category.objects.get(full_name="城乡建设 › 安全生产 › 事故处理")
    assert leaf.parent.parent.name == "城乡建设" and leaf.is_leaf


@pytest.mark.django_db
def test_second_load_changes_nothing():
    call_command("load_categories", str(CSV))
    before = list(Category.objects.order_by("pk").values_list("pk", "full_name", "level"))
    call_command("load_categories", str(CSV))
    assert list(Category.objects.order_by("pk").values_list("pk", "full_name", "level")) == before


@pytest.mark.django_db
def test_bad_row_names_its_line_and_loads_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "level1,level2,level3\n城乡建设,安全生产,事故处理\n城乡建设,,环境卫生\n交通运输,道路,a,b\n", encoding="utf-8"
    )
    with pytest.raises(CommandError) as exc:
        call_command("load_categories", str(bad))
    assert "第 3 行：level2 为空" in str(exc.value)
    assert "第 4 行：应有 3 列" in str(exc.value)
    assert Category.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content,expected",
    [
        ("a,b,c\n1,2,3\n", "表头应为 level1,level2,level3"),
        ("level1,level2,level3\n", "没有分类数据"),
        ("level1,level2,level3\n" + "长" * 51 + ",b,c\n", "超过 50 个字"),
    ],
)
def test_malformed_files_are_rejected_with_reason(tmp_path, content, expected):
    path = tmp_path / "x.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=expected):
        call_command("load_categories", str(path))
    assert Category.objects.count() == 0


@pytest.mark.django_db
def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("load_categories", str(tmp_path / "nope.csv"))


@pytest.mark.django_db
def test_three_levels_at_most():
    call_command("load_categories", str(CSV))
    leaf = Category.objects.leaves().first()
    child = Category(name="第四级", parent=leaf)
    with pytest.raises(Exception, match="最多三级"):
        child.full_clean()


@pytest.mark.django_db
def test_renaming_a_category_renames_its_descendants():
    call_command("load_categories", str(CSV))
    top = Category.objects.get(level=1, name="城乡建设")
    top.name = "城乡建设管理"
    top.save()
    assert Category.objects.filter(full_name__startswith="城乡建设管理 › ", level=3).count() == 65
