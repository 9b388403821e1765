"""Read run-time settings: the admin's value from ``system.Setting`` or the default from ``system.defaults``."""

from typing import Any

from django.utils.module_loading import import_string

from system.defaults import SETTINGS


def parse_positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("必须是正整数")
    return value


def parse_setting(key: str, text: str) -> Any:
    """Parse ``text`` with the setting's parser; raises ValueError with a Chinese message."""
    spec = SETTINGS[key]
    return import_string(spec.parser)(text)


def get_setting(key: str) -> Any:
    from system.models import Setting

    if key not in SETTINGS:
        raise KeyError(key)
    row = Setting.objects.filter(key=key).values_list("value", flat=True).first()
    return parse_setting(key, row if row is not None else SETTINGS[key].default)
