"""The Chinese font embedded in PDF reports. Kept apart from reports.py so that the start-up check that looks
for it does not import the reports' heavy dependencies."""

from pathlib import Path

from django.conf import settings

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


class NoChineseFont(RuntimeError):
    pass


def chinese_font() -> Path:
    """The CJK font embedded in PDFs: settings.REPORT_FONT (env REPORT_FONT) or a Debian font package's file."""
    for candidate in filter(None, (settings.REPORT_FONT, *FONT_CANDIDATES)):
        if Path(candidate).is_file():
            return Path(candidate)
    raise NoChineseFont("没有找到中文字体：请安装 fonts-wqy-microhei，或用环境变量 REPORT_FONT 指定字体文件")
