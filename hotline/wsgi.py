"""The WSGI application that gunicorn serves (see ./run and docs/deploy.md)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

application = get_wsgi_application()

# Each web worker loads the classifier and jieba in the background as it starts, not on its first request.
from nlp import warmup  # noqa: E402 - needs the settings configured above

warmup.start()
