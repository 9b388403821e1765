"""Uploaded files on disk: a full disk is a clear refusal that leaves no partial file and no half-written record.

`MediaStorage` is Django's file-system storage, except that a write that fails (disk full, quota, I/O error)
removes the file it had begun, instead of leaving its first bytes behind under a name nothing points to.
Callers save files inside the transaction that records them, and turn a full disk into `StorageFull` with
`refuse_if_disk_full`: the transaction rolls back, so there is no attachment row, no timeline entry and no
file, and the person sees 存储空间不足 (HTTP 507) and can try again once space is freed.
"""

import errno
import os
from contextlib import contextmanager

from django.core.files.storage import FileSystemStorage

from hotline.error_codes import ErrorCode
from orders.errors import TransitionError

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageFull(TransitionError):
    """The disk holding the uploads is full: nothing was saved; try again later."""

    status = 507
    code = ErrorCode.STORAGE_FULL

    def __init__(self, field: str) -> None:
        super().__init__("存储空间不足，文件未保存，请稍后重试或联系管理员", field=field)


class MediaStorage(FileSystemStorage):
    def _save(self, name: str, content) -> str:
        path = self.path(name)
        existed = os.path.exists(path)
        try:
            return super()._save(name, content)
        except OSError:
            if not existed:
                try:
                    os.remove(path)
                except OSError:
                    pass
            raise


@contextmanager
def refuse_if_disk_full(field: str):
    """Turn a full disk inside the block into `StorageFull` naming ``field``; other errors pass unchanged."""
    try:
        yield
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise StorageFull(field) from exc
        raise
