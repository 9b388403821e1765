from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from accounts import lockout
from accounts.models import User
from hotline.forms import NamedRequired


class UserCreateForm(UserCreationForm):
    """The one form that creates users: used by the admin site and by the demo loader."""

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "unit", "is_unit_manager", "phone", "email"]


class LoginForm(AuthenticationForm):
    """Django's sign-in form with the lockout of ``accounts/lockout.py`` around the password check."""

    def clean(self) -> dict:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data  # the empty field carries its own error
        ip = lockout.client_ip(self.request)
        if not lockout.claim(username, ip):
            raise ValidationError(lockout.locked_message(), code="locked")
        try:
            return super().clean()
        except ValidationError:
            if lockout.is_locked(username, ip):  # this failure was the last one allowed
                raise ValidationError(lockout.locked_message(), code="locked") from None
            raise


class CodeForm(NamedRequired, forms.Form):
    """The six digits an authenticator app shows."""

    code = forms.CharField(
        label="验证码",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
