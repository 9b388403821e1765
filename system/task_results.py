"""django-tasks-db under a Chinese name in the admin (its own app names itself in English, without gettext).

Its model, field and status labels are translated in locale/zh_Hans/LC_MESSAGES/django.po.
"""

from django_tasks_db.apps import TasksAppConfig


class TaskResultsConfig(TasksAppConfig):
    verbose_name = "后台任务"
