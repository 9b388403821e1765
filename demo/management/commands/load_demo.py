from django.core.management.base import BaseCommand, CommandError

from demo.loader import DEMO_PASSWORD, DEMO_USERS, DemoError, demo_loaded, load_demo


class Command(BaseCommand):
    help = "导入演示城市 A市 的单位、诉求分类和各角色用户（只导入一次，重复运行不会重复创建）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="数据库里已有演示数据时直接跳过")

    def handle(self, *args, if_empty: bool, **options) -> None:
        if if_empty and demo_loaded():
            self.stdout.write("演示数据已存在，跳过导入。")
        else:
            self._load()
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, name, role, _unit, manager in DEMO_USERS:
            self.stdout.write(f"  {username:<14} {role.label}{'（单位负责人）' if manager else ''} {name}")

    def _load(self) -> None:
        try:
            counts = load_demo()
        except DemoError as exc:
            raise CommandError(f"演示数据导入失败，未写入任何数据：{exc}") from exc
        self.stdout.write("演示数据：" + "，".join(f"{k} +{v}" for k, v in counts.items()))
