from django.shortcuts import render

from accounts.permissions import role_required
from categories.models import Category, RequestType


@role_required()
def tree(request):
    """The category tree with each category's default unit; ``q`` keeps the branches that match."""
    q = request.GET.get("q", "").strip()[:50]
    categories = Category.objects.active().select_related("default_unit").order_by("full_name")
    if q:
        categories = categories.filter(full_name__icontains=q)
    nodes: dict[int, dict] = {}
    roots: list[dict] = []
    for cat in categories:
        nodes[cat.pk] = {"category": cat, "children": []}
    for cat in categories:
        node = nodes[cat.pk]
        parent = nodes.get(cat.parent_id)
        (parent["children"] if parent else roots).append(node)
    return render(
        request,
        "categories/tree.html",
        {"roots": roots, "q": q, "count": len(nodes), "request_types": RequestType.objects.all()},
    )
