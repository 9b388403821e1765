"""Load at a web worker's start what the intake page's first suggestion would otherwise wait for.

The classifier's model file (about a second) and jieba's dictionary (about another) are loaded on first use,
so without this the first operator served by each new worker waits two to three seconds for 分类建议.
"""

import logging
import threading

from django.db import connection

logger = logging.getLogger(__name__)


def warm_up() -> None:
    from nlp import classifier, places

    try:
        classifier.predict("小区路灯不亮", "晚上看不见路")  # the model, then jieba's dictionary
        places.gazetteer()  # the place names of the unit tree
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first request does the work
        logger.exception("预加载语言模型失败，将在首次使用时加载")
    finally:
        connection.close()  # this thread's own connection: not kept open for the life of the worker


def start() -> threading.Thread:
    thread = threading.Thread(target=warm_up, name="nlp-warm-up", daemon=True)
    thread.start()
    return thread
