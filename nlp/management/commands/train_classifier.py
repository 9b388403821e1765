"""manage.py train_classifier: train the message classifier on nlp/data and save it under VAR_DIR/models.

Set-up runs it with --if-missing, so a fresh clone gets a model once and later starts skip the half minute.
"""

import time
from collections import Counter

from django.core.management.base import BaseCommand

from nlp import classifier


class Command(BaseCommand):
    help = "训练留言分类模型（nlp/data 中的两份标注数据），保存到 var/models/classifier.joblib"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="模型文件已存在且比训练数据新时什么也不做",
        )

    def handle(self, *args, if_missing: bool = False, **options) -> None:
        path = classifier.model_path()
        if if_missing and classifier.is_up_to_date(path):
            self.stdout.write(f"分类模型已是最新：{path}")
            return
        started = time.monotonic()
        examples = classifier.load_examples()
        counts = Counter(e.label for e in examples)
        raw = sum(e.raw for e in examples)
        self.stdout.write(f"训练数据 {len(examples)} 条（其中原始留言 {raw} 条）：")
        for label, count in counts.most_common():
            self.stdout.write(f"  {label}\t{count}")
        classifier.save(classifier.train(examples), path)
        self.stdout.write(self.style.SUCCESS(f"分类模型已保存到 {path}，用时 {time.monotonic() - started:.1f} 秒"))
