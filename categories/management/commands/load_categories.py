from django.core.management.base import BaseCommand, CommandError

from categories.loader import CsvError, load_categories


class Command(BaseCommand):
    help = "从 CSV（表头 level1,level2,level3）导入三级诉求分类；重复导入不会产生重复数据"

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="CSV 文件路径，如 categories/data/categories.csv")

    def handle(self, *args, path: str, **options) -> None:
        try:
            result = load_categories(path)
        except FileNotFoundError as exc:
            raise CommandError(f"找不到文件：{path}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"文件不是 UTF-8 编码：{path}") from exc
        except CsvError as exc:
            raise CommandError(f"导入失败，未写入任何数据：\n{exc}") from exc
        self.stdout.write(f"新增分类 {result.created} 个，已存在 {result.existing} 个")
