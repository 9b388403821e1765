"""Replay dead letters: deliveries that used up their attempts go back to the queue."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sharing.delivery import replay
from sharing.models import Delivery, DeliveryStatus, Subscription


class Command(BaseCommand):
    help = "重新投递死信：把用完尝试次数的推送放回队列，后台下一次运行时发送"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--subscription", type=int, help="只重新投递这个订阅（编号）的死信")

    def handle(self, *args, subscription: int | None, **options) -> None:
        dead = Delivery.objects.filter(status=DeliveryStatus.DEAD)
        if subscription is not None:
            if not Subscription.objects.filter(pk=subscription).exists():
                raise CommandError(f"订阅不存在：{subscription}")
            dead = dead.filter(subscription_id=subscription)
        count = replay(dead, timezone.now())
        self.stdout.write(f"已重新排队 {count} 条死信")
