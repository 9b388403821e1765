"""Every form of the product names the field it misses: 请填写督办要求, not 这个字段是必填项。"""

import inspect
from importlib import import_module

import pytest
from django import forms

from hotline.forms import GENERIC_REQUIRED, NamedRequired

pytestmark = pytest.mark.django_db

MODULES = [
    "orders.forms", "supervision.forms", "portal.forms", "urgent.forms", "org.forms", "knowledge.forms",
    "alerts.forms", "accounts.forms",
]  # fmt: skip
DJANGOS_OWN = {"UserCreateForm", "LoginForm"}  # built on django.contrib.auth's forms, which word their own errors


def product_forms():
    for name in MODULES:
        for _, cls in inspect.getmembers(import_module(name), inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name and cls.__name__ not in DJANGOS_OWN:
                yield cls


def test_every_product_form_names_its_missing_fields(categories, staff):
    found = list(product_forms())
    assert len(found) > 30
    for cls in found:
        assert issubclass(cls, NamedRequired), cls
        form = cls(**{"user": staff["admin"]} if "user" in inspect.signature(cls.__init__).parameters else {})
        for name, field in form.fields.items():
            message = str(field.error_messages.get("required", ""))
            assert message != GENERIC_REQUIRED, f"{cls.__name__}.{name}"


def test_the_wording_follows_the_kind_of_field():
    class Example(NamedRequired, forms.Form):
        title = forms.CharField(label="标题")
        unit = forms.ChoiceField(label="主办单位", choices=[("1", "一区")])
        agree = forms.BooleanField(label="同意条款")
        file = forms.FileField(label="附件")
        own = forms.CharField(label="自定义", error_messages={"required": "请说明理由"})

    errors = Example(data={}).errors
    assert errors == {
        "title": ["请填写标题"], "unit": ["请选择主办单位"], "agree": ["请勾选同意条款"], "file": ["请选择附件"],
        "own": ["请说明理由"],
    }  # fmt: skip
