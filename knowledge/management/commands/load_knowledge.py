"""manage.py load_knowledge: the seed articles and past cases (knowledge/seed/), skipping what is already there."""

from django.core.management.base import BaseCommand, CommandError

from knowledge.seed import SeedError, load


class Command(BaseCommand):
    help = "导入知识库种子内容（knowledge/seed 中的知识条目和历史案例），已导入的跳过"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", type=int, default=None, help="最多导入多少条案例（默认全部）")

    def handle(self, *args, cases: int | None, **options) -> None:
        try:
            counts = load(cases=cases)
        except SeedError as exc:
            raise CommandError(f"知识库导入失败，未写入任何内容：{exc}") from exc
        self.stdout.write(f"知识库：知识条目 +{counts['articles']}，案例 +{counts['cases']}")
