"""The navigation menu: which entries each role sees. The views enforce the same roles."""

from dataclasses import dataclass

from django.urls import reverse

from accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]


ALL = frozenset(Role.values)

MENU: list[NavItem] = [
    NavItem("首页", "accounts:home", ALL),
    NavItem("组织机构", "org:unit_list", ALL),
    NavItem("诉求分类", "categories:tree", ALL),
    NavItem("工作日历", "workcalendar:month", ALL),
    NavItem("系统管理", "admin:index", frozenset({Role.ADMIN})),
]


def menu_for(user, current_path: str) -> list[dict]:
    items = []
    for item in MENU:
        if user.role in item.roles:
            url = reverse(item.url_name)
            active = current_path == url if url == "/" else current_path.startswith(url)
            items.append({"label": item.label, "url": url, "active": active})
    return items
