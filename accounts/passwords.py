"""Password rules beyond Django's own validators (listed with them in ``AUTH_PASSWORD_VALIDATORS``)."""

from collections.abc import Callable

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHARACTER_CLASSES: list[tuple[str, Callable[[str], bool]]] = [
    ("大写字母", str.isupper),
    ("小写字母", str.islower),
    ("数字", str.isdigit),
    ("符号", lambda c: not c.isalnum()),  # punctuation, spaces, full-width signs such as ￥ and ！
]


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with a Chinese message: its zh-hans catalogue lacks this one."""

    def get_error_message(self) -> str:
        return _("密码太短，至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少 %(min_length)d 个字符。") % {"min_length": self.min_length}


class CharacterClassValidator:
    """At least ``min_classes`` of: upper-case letters, lower-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        present = sum(any(test(c) for c in password) for _name, test in CHARACTER_CLASSES)
        if present < self.min_classes:
            raise ValidationError(self._message(), code="password_too_simple")

    def get_help_text(self) -> str:
        return self._message()

    def _message(self) -> str:
        names = "、".join(name for name, _test in CHARACTER_CLASSES)
        return _("密码须包含%(names)s中的至少 %(count)d 类。") % {"names": names, "count": self.min_classes}
