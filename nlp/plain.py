"""Plain text for the rule-based detectors: bounded length, tags removed, full-width letters and digits folded."""

import re
import unicodedata

MAX_CHARS = 5000  # detectors read the start of a message; a 100,000-character paste is cut here
TAG = re.compile(r"<[^>]{0,200}>")


def plain(text: str | None) -> str:
    text = (text or "")[: MAX_CHARS * 2]
    text = TAG.sub(" ", text)
    # NFKC folds full-width ASCII (Ａ１２) to half-width but keeps Chinese punctuation's meaning
    return unicodedata.normalize("NFKC", text)[:MAX_CHARS]
