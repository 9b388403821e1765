from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class UserCreateForm(UserCreationForm):
    """The one form that creates users: used by the admin site and by the demo loader."""

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "unit", "is_unit_manager", "phone", "email"]
