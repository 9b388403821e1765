"""A web worker loads the language models as it starts, so the first operator does not wait for them."""

import os
import subprocess
import sys

import jieba
import pytest
from django.conf import settings

from nlp import classifier, warmup


@pytest.mark.django_db
def test_warm_up_loads_the_classifier_and_jieba(monkeypatch):
    monkeypatch.setattr(classifier, "_classifier", None)
    warmup.start().join(timeout=120)
    assert classifier._classifier is not None and jieba.dt.initialized


def test_the_wsgi_application_starts_the_warm_up():
    code = "import threading, hotline.wsgi; print([t.name for t in threading.enumerate()])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hotline.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "nlp-warm-up" in out.stdout
