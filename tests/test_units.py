import pytest
from django.core.exceptions import ValidationError

from accounts.roles import Role
from org.forms import UnitForm
from org.models import Unit, UnitKind


def test_subtree_contains_unit_and_all_descendants(city):
    assert set(city["d1"].subtree()) == {city["d1"], city["s1"], city["c1"]}
    assert city["c1"].full_name == "测试市 › 一区 › 一街道 › 一社区"
    assert city["c1"].depth == 3


def test_moving_a_unit_moves_its_descendants(city):
    city["s1"].parent = city["d2"]
    city["s1"].save()
    city["c1"].refresh_from_db()
    assert city["c1"].path.startswith(city["d2"].path)
    assert set(city["d2"].subtree()) == {city["d2"], city["s2"], city["s1"], city["c1"]}
    assert city["d1"].subtree().count() == 1


@pytest.mark.parametrize(
    "kind,parent_key,message",
    [
        (UnitKind.STREET, "city", "不能隶属于"),
        (UnitKind.COMMUNITY, "d1", "不能隶属于"),
        (UnitKind.DISTRICT, None, "必须有上级单位"),
        (UnitKind.UTILITY, "d1", "不能隶属于"),
    ],
)
def test_unit_kind_must_fit_its_parent(city, kind, parent_key, message):
    parent = city[parent_key].pk if parent_key else ""
    form = UnitForm(data={"code": "X1", "name": "新单位", "kind": kind, "parent": parent, "is_active": True})
    assert not form.is_valid()
    assert message in " ".join(form.errors["parent"])
    assert not Unit.objects.filter(code="X1").exists()


def test_unit_cannot_move_under_its_own_descendant(city):
    city["d1"].parent = city["s1"]
    with pytest.raises(ValidationError) as exc:
        city["d1"].full_clean()
    assert "parent" in exc.value.message_dict


def test_unit_without_a_kind_is_asked_for_one_and_its_phone_must_be_dialable(city):
    form = UnitForm(data={"code": "X2", "name": "新单位", "kind": "", "parent": "", "contact_phone": "abc😀"})
    assert not form.is_valid()
    assert form.errors["kind"] == ["请选择单位类型"] and "parent" not in form.errors  # no 「“”类单位…」
    assert "电话号码格式不对" in form.errors["contact_phone"][0]
    ok = UnitForm(data={"code": "X3", "name": "新单位", "kind": UnitKind.DEPARTMENT, "parent": city["city"].pk,
                        "contact_phone": "0731-8888 8888", "is_active": True})  # fmt: skip
    assert ok.is_valid(), ok.errors
    assert ok.save().contact_phone == "0731-88888888"


def test_unit_code_is_validated_by_field(city):
    form = UnitForm(data={"code": "坏 编码", "name": "x", "kind": UnitKind.DEPARTMENT, "parent": city["city"].pk})
    assert not form.is_valid()
    assert "code" in form.errors


def test_handler_sees_own_unit_manager_sees_subunits_centre_sees_all(city, make_user):
    plain = make_user(Role.HANDLER, city["d1"], username="plain")
    manager = make_user(Role.HANDLER, city["d1"], manager=True, username="boss")
    dispatcher = make_user(Role.DISPATCHER)
    assert set(plain.visible_units) == {city["d1"]}
    assert set(manager.visible_units) == {city["d1"], city["s1"], city["c1"]}
    assert dispatcher.visible_units.count() == Unit.objects.count()


def test_only_handlers_can_be_unit_managers(city, make_user):
    user = make_user(Role.OPERATOR)
    user.is_unit_manager = True
    with pytest.raises(ValidationError):
        user.full_clean()


def test_admin_role_gets_admin_site_flags_and_others_lose_them(city, make_user):
    admin = make_user(Role.ADMIN)
    assert admin.is_staff and admin.is_superuser
    admin.role = Role.LEADER
    admin.save()
    assert not admin.is_staff and not admin.is_superuser
