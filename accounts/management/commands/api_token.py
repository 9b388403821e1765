from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiToken, TokenScope, User
from accounts.tokens import create_token


def _time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "管理其他系统调用 REST API 用的令牌：create 创建、list 列出、revoke 吊销"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="为用户创建令牌；密钥只显示这一次（输出的最后一行）")
        create.add_argument("username", help="令牌代表的用户名，接口按该用户的角色和单位鉴权")
        create.add_argument("name", help="令牌名称，一般写调用方系统的名称")
        create.add_argument("--days", type=int, default=None, help="有效天数；不填表示长期有效")
        create.add_argument(
            "--scope",
            action="append",
            choices=TokenScope.values,
            dest="scopes",
            help="权限范围，可重复：read 读取（GET），write 写入（其他请求）；不填表示两者都有",
        )
        sub.add_parser("list", help="列出所有令牌（不含密钥）")
        revoke = sub.add_parser("revoke", help="吊销令牌")
        revoke.add_argument("id", type=int, help="令牌编号（见 list）")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(self, username: str, name: str, days: int | None, scopes: list[str] | None, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户不存在：{username}")
        if not user.is_active:
            raise CommandError(f"用户已停用：{username}")
        if days is not None and days <= 0:
            raise CommandError("--days 必须是正整数")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        token, key = create_token(user, name, expires_at=expires_at, scopes=scopes or TokenScope.values)
        until = f"有效期至 {_time(expires_at)}" if expires_at else "长期有效"
        self.stdout.write(
            f"已为用户 {user.username}（{user.get_role_display()}）创建令牌 #{token.pk}“{name}”，"
            f"权限 {token.scopes}，{until}。"
        )
        self.stdout.write("密钥只显示这一次，请立即保存；调用时使用请求头 Authorization: Bearer <密钥>")
        self.stdout.write(key)

    def _list(self, **options) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("pk")
        if not tokens:
            self.stdout.write("还没有令牌")
            return
        now = timezone.now()
        self.stdout.write("编号\t用户\t名称\t前缀\t权限\t状态\t创建时间\t最近使用\t过期时间")
        for t in tokens:
            status = "已吊销" if not t.is_active else "已过期" if t.expires_at and t.expires_at <= now else "有效"
            self.stdout.write(
                f"{t.pk}\t{t.user.username}\t{t.name}\t{t.key_prefix}\t{t.scopes}\t{status}\t"
                f"{_time(t.created_at)}\t{_time(t.last_used_at)}\t{_time(t.expires_at)}"
            )

    def _revoke(self, id: int, **options) -> None:
        token = ApiToken.objects.filter(pk=id).first()
        if token is None:
            raise CommandError(f"令牌不存在：{id}")
        if not token.is_active:
            self.stdout.write(f"令牌 #{id}“{token.name}”已经吊销过了")
            return
        token.is_active = False
        token.save(update_fields=["is_active"])
        self.stdout.write(f"已吊销令牌 #{id}“{token.name}”")
