"""The navigation menu: which entries each role sees. The views enforce the same roles."""

from dataclasses import dataclass

from django.urls import reverse

from accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]  # who has the entry in the menu
    # who else may open the page, reaching it from another one (e.g. the 督办 page); the rest get 403
    open_to: frozenset[str] = frozenset()


ALL = frozenset(Role.values)

MENU: list[NavItem] = [
    NavItem("首页", "accounts:home", ALL),
    NavItem("受理", "orders:intake", frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN})),
    NavItem("网上诉求", "portal:queue", frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN})),
    NavItem("派单", "orders:dispatch_queue", frozenset({Role.DISPATCHER})),
    NavItem("承办", "orders:inbox", frozenset({Role.HANDLER})),
    NavItem("回访", "orders:callback_queue", frozenset({Role.CALLBACK})),
    NavItem("工单查询", "orders:list", ALL),
    NavItem("知识库", "knowledge:index", ALL),
    NavItem("统计分析", "analytics:overview", frozenset({Role.LEADER, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER})),
    NavItem("督办", "supervision:dashboard", frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN, Role.DISPATCHER})),
    NavItem("热线要情", "urgent:inbox", frozenset({Role.LEADER})),
    NavItem("热线要情", "urgent:overview", frozenset({Role.SUPERVISOR, Role.ADMIN})),
    NavItem(
        "监测预警", "alerts:list", frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN, Role.DISPATCHER, Role.HANDLER})
    ),
    NavItem("专员抽查", "supervision:spotchecks", frozenset({Role.SUPERVISOR, Role.LEADER, Role.HANDLER})),
    NavItem(
        "不满意工单",
        "supervision:unsatisfied",
        frozenset({Role.SUPERVISOR, Role.DISPATCHER, Role.CALLBACK, Role.LEADER, Role.HANDLER}),
    ),
    # A unit's own supervision and numbers: the 督办单 it must answer, 吹哨报到 it blows or answers, its 看板.
    NavItem("督办单", "supervision:list", frozenset({Role.HANDLER}), open_to=ALL),
    NavItem("吹哨报到", "supervision:whistles", frozenset({Role.HANDLER}), open_to=ALL),
    NavItem(
        "单位看板",
        "analytics:unit",
        frozenset({Role.HANDLER}),
        open_to=frozenset({Role.LEADER, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER}),
    ),  # fmt: skip
    NavItem("组织机构", "org:unit_list", ALL),
    NavItem("诉求分类", "categories:tree", ALL),
    NavItem("工作日历", "workcalendar:month", ALL),
    NavItem("审计日志", "audit:entries", frozenset({Role.ADMIN})),
    NavItem("系统管理", "admin:index", frozenset({Role.ADMIN})),
]


def menu_for(user, current_path: str) -> list[dict]:
    """The user's menu; the entry whose URL is the longest prefix of the current path is marked active."""
    items = [
        {"label": item.label, "url": reverse(item.url_name), "active": False}
        for item in MENU
        if user.role in item.roles
    ]
    matches = [i for i in items if (current_path == i["url"] if i["url"] == "/" else current_path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
