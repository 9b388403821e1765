from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from demo.history import HANDLER_PREFIX, state_line
from demo.loader import DEMO_PASSWORD, DEMO_USERS, DemoError, demo_loaded, load_demo, load_orders
from knowledge.models import Article
from knowledge.seed import SeedError
from knowledge.seed import load as load_knowledge

DEFAULT_ORDERS = 2000


class Command(BaseCommand):
    help = "导入演示城市 A市 的单位、诉求分类和各角色用户，以及近 90 天的演示工单（只导入一次，重复运行不会重复创建）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="数据库里已有演示数据时直接跳过")
        parser.add_argument(
            "--orders",
            type=int,
            default=DEFAULT_ORDERS,
            help=f"演示工单数量（默认 {DEFAULT_ORDERS}；只在还没有任何工单时导入，0 表示不导入）",
        )
        parser.add_argument("--cases", type=int, default=None, help="知识库案例数量（默认全部，0 表示不导入）")

    def handle(self, *args, if_empty: bool, orders: int, cases: int | None, **options) -> None:
        if if_empty and demo_loaded():
            self.stdout.write("演示数据已存在，跳过导入。")
        else:
            self._load()
        self._load_knowledge(cases)
        self._load_orders(orders)
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, name, role, _unit, manager in DEMO_USERS:
            self.stdout.write(f"  {username:<14} {role.label}{'（单位负责人）' if manager else ''} {name}")
        if User.objects.filter(username__startswith=HANDLER_PREFIX).exists():
            self.stdout.write(
                f"  {HANDLER_PREFIX}<编码>       承办人：每个承办单位一个账号，{HANDLER_PREFIX} 加单位编码的小写"
                "（如 h_a-zjj、h_a1-s01），密码相同"
            )

    def _load(self) -> None:
        try:
            counts = load_demo()
        except DemoError as exc:
            raise CommandError(f"演示数据导入失败，未写入任何数据：{exc}") from exc
        self.stdout.write("演示数据：" + "，".join(f"{k} +{v}" for k, v in counts.items()))

    def _load_knowledge(self, cases: int | None) -> None:
        if Article.objects.filter(source__startswith="seed:").exists():
            return
        try:
            counts = load_knowledge(User.objects.filter(username="admin").first(), cases=cases)
        except SeedError as exc:
            raise CommandError(f"知识库导入失败，未写入任何内容：{exc}") from exc
        self.stdout.write(f"知识库：知识条目 +{counts['articles']}，案例 +{counts['cases']}")

    def _load_orders(self, count: int) -> None:
        try:
            summary = load_orders(count)
        except DemoError as exc:
            raise CommandError(f"演示工单导入失败，未写入任何工单：{exc}") from exc
        if summary is None:
            return
        if summary.get("skipped"):
            self.stdout.write(f"演示工单未导入：{summary['skipped']}")
            return
        self.stdout.write(f"演示工单：+{summary['orders']}（{state_line(summary)}）")
        if summary["errors"]:
            self.stderr.write(f"有 {len(summary['errors'])} 张工单回放中途停止：{summary['errors'][0]}")
