"""Checks on what callers and units type in: phone numbers, credit codes, attachments."""

import re
from pathlib import PurePath

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
SERVICE = re.compile(r"^[48]00-?\d{3}-?\d{4}$")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
# GB 32100-2015: the 18th character checks the first 17.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# extension -> (content type, test on the first bytes): the bytes must agree with the name.
ATTACHMENT_TYPES = {
    "jpg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "png": ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    "gif": ("image/gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    "pdf": ("application/pdf", lambda b: b.startswith(b"%PDF-")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        lambda b: b.startswith(b"PK\x03\x04"),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        lambda b: b.startswith(b"PK\x03\x04"),
    ),
    "mp3": ("audio/mpeg", lambda b: b.startswith(b"ID3") or b[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    "wav": ("audio/wav", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE"),
    "mp4": ("video/mp4", lambda b: b[4:8] == b"ftyp"),
}


def normalize_phone(raw: str) -> str:
    return re.sub(r"[\s()（）]", "", raw or "")


def phone_error(phone: str) -> str | None:
    """None for a valid mobile, landline with area code, or 400/800 number; else the reason."""
    if not phone:
        return "请填写联系电话"
    if MOBILE.match(phone) or LANDLINE.match(phone) or SERVICE.match(phone):
        return None
    return "电话号码格式不对：手机 11 位，固话需带区号（如 0731-88888888），或 400/800 号码"


def credit_check_char(body: str) -> str:
    """The check character of a 统一社会信用代码 whose first 17 characters are ``body``."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: str) -> str | None:
    if not CREDIT_CODE.match(code or ""):
        return "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）"
    if credit_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不对，请核对"
    return None


def attachment_error(name: str, size: int, head: bytes) -> tuple[str | None, str]:
    """(reason or None, content type) for an upload, judged by size, extension and actual bytes."""
    ext = PurePath(name).suffix.lower().lstrip(".")
    if ext not in ATTACHMENT_TYPES:
        return f"不支持的附件类型 .{ext or '?'}，允许：{'、'.join(sorted(ATTACHMENT_TYPES))}", ""
    if size <= 0:
        return "附件为空", ""
    if size > MAX_ATTACHMENT_BYTES:
        return f"附件超过 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB", ""
    content_type, matches = ATTACHMENT_TYPES[ext]
    if not matches(head):
        return f"附件内容与扩展名 .{ext} 不符", ""
    return None, content_type
