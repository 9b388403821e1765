from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from open311.keys import create_key
from open311.models import Open311Key
from orders.transitions import INTAKE_ROLES
from org.models import Unit


def _time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "管理 Open311 接口的 api_key：create 创建、list 列出、revoke 吊销"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="创建密钥；密钥只显示这一次（输出的最后一行）")
        create.add_argument("name", help="密钥名称，一般写调用方系统的名称")
        create.add_argument("--user", help="以该用户受理提交的诉求（话务员、派单员或管理员）；不填则在热线中心新建账号")
        sub.add_parser("list", help="列出所有密钥（不含密钥本身）")
        revoke = sub.add_parser("revoke", help="吊销密钥")
        revoke.add_argument("name", help="密钥名称（见 list）")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(self, name: str, user: str | None, **options) -> None:
        name = name.strip()
        if not name:
            raise CommandError("请提供密钥名称")
        if Open311Key.objects.filter(name=name, is_active=True).exists():
            raise CommandError(f"已有名为“{name}”的有效密钥；换一个名称，或先吊销它")
        account = None
        if user is not None:
            account = User.objects.filter(username=user).first()
            if account is None:
                raise CommandError(f"用户不存在：{user}")
            if not account.has_role(*INTAKE_ROLES):
                raise CommandError(f"用户 {user} 不能受理工单：须为启用的话务员、派单员或管理员")
        try:
            key, plain = create_key(name, account)
        except Unit.DoesNotExist as exc:
            raise CommandError(f"{exc}，请先建立热线中心单位，或用 --user 指定受理账号") from None
        self.stdout.write(f"已创建 Open311 密钥“{name}”，受理账号 {key.user.username}（{key.user.unit}）。")
        self.stdout.write("密钥只显示这一次，请立即保存；提交诉求时作为 api_key 参数发送")
        self.stdout.write(plain)

    def _list(self, **options) -> None:
        keys = Open311Key.objects.select_related("user").order_by("pk")
        if not keys:
            self.stdout.write("还没有密钥")
            return
        self.stdout.write("名称\t前缀\t受理账号\t状态\t创建时间\t最近使用")
        for k in keys:
            status = "有效" if k.is_active else "已吊销"
            self.stdout.write(
                f"{k.name}\t{k.key_prefix}\t{k.user.username}\t{status}\t{_time(k.created_at)}\t{_time(k.last_used_at)}"
            )

    def _revoke(self, name: str, **options) -> None:
        revoked = Open311Key.objects.filter(name=name, is_active=True).update(is_active=False)
        if not revoked:
            raise CommandError(f"没有名为“{name}”的有效密钥")
        self.stdout.write(f"已吊销密钥“{name}”")
