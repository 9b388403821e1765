import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.roles import Role
from categories.models import Category
from demo.loader import DEMO_PASSWORD, DEMO_USERS
from org.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


def test_demo_city_has_every_kind_of_unit_and_a_user_for_every_role(client):
    call_command("load_demo", orders=0, cases=100)
    assert Unit.objects.filter(kind=UnitKind.DISTRICT).count() == 9
    assert set(Unit.objects.filter(kind=UnitKind.DISTRICT).values_list("code", flat=True)) == {
        f"A{i}" for i in range(1, 10)
    }
    assert Unit.objects.filter(kind=UnitKind.STREET).count() >= 27
    assert Unit.objects.filter(kind=UnitKind.COMMUNITY).count() >= 54
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT, parent__code="A").count() >= 15
    assert Unit.objects.filter(kind=UnitKind.UTILITY).count() == 4
    assert {u.role for u in User.objects.all()} == set(Role.values)
    assert Category.objects.leaves().count() == 517
    assert Category.objects.filter(default_unit__isnull=False).count() > 50
    for username, *_ in DEMO_USERS:
        assert client.login(username=username, password=DEMO_PASSWORD), username


def test_demo_loads_once(capsys):
    call_command("load_demo", orders=0, cases=100)
    counts = (Unit.objects.count(), User.objects.count(), Category.objects.count())
    call_command("load_demo", if_empty=True, orders=0, cases=100)
    assert "已存在" in capsys.readouterr().out
    call_command("load_demo", orders=0, cases=100)
    assert (Unit.objects.count(), User.objects.count(), Category.objects.count()) == counts


def test_demo_unit_manager_sees_the_districts_streets(client):
    call_command("load_demo", orders=0, cases=100)
    manager = User.objects.get(username="handler_a7")
    assert manager.visible_units.filter(kind=UnitKind.COMMUNITY).exists()
    assert not manager.visible_units.filter(code="A2").exists()


def test_demo_logins_are_printed(capsys):
    call_command("load_demo", if_empty=True, orders=0, cases=100)
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    for username, *_ in DEMO_USERS:
        assert username in out
