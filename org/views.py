from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from accounts.permissions import role_required
from org.models import UnitKind


@role_required()
def unit_list(request):
    """The unit tree as far as this user may see it, filterable by kind and name."""
    units = request.user.visible_units.annotate(user_count=Count("users"))
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "").strip()[:50]
    if kind in UnitKind.values:
        units = units.filter(kind=kind)
    if q:
        units = units.filter(name__icontains=q)
    if request.GET.get("inactive") != "1":
        units = units.filter(is_active=True)
    return render(request, "org/unit_list.html", {"units": units, "kinds": UnitKind.choices, "kind": kind, "q": q})


@role_required()
def unit_detail(request, code: str):
    unit = get_object_or_404(request.user.visible_units, code=code)
    return render(
        request,
        "org/unit_detail.html",
        {
            "unit": unit,
            "ancestors": unit.ancestors(),
            "children": unit.children.order_by("path"),
            "users": unit.users.filter(is_active=True),
            "categories": unit.default_categories.all(),
        },
    )
