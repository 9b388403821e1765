"""Article bodies: Markdown to sanitised HTML, the part citizens may see, and the steps of a guide (步骤导航)."""

import re

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
INTERNAL_HEADING = re.compile(r"^#{1,6}\s*内部提示\s*$", re.MULTILINE)
STEPS_HEADING = re.compile(r"^#{1,6}\s*办理步骤\s*$", re.MULTILINE)
STEP_LINE = re.compile(r"^\s*\d+[.、)）]\s*(.+)$")


def to_html(text: str) -> SafeString:
    """Markdown rendered and then cleaned: no script, no event handler, no javascript: link survives."""
    rendered = markdown.markdown(text or "", extensions=["sane_lists", "tables"], output_format="html")
    clean = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 above


def public_part(text: str) -> str:
    """The body without its "内部提示" section (and everything after it): what the public FAQ shows."""
    match = INTERNAL_HEADING.search(text or "")
    return (text or "")[: match.start()].rstrip() if match else (text or "")


def steps(text: str) -> list[str]:
    """The numbered steps under the "办理步骤" heading, for the step navigation of a guide."""
    match = STEPS_HEADING.search(text or "")
    if not match:
        return []
    found = []
    for line in text[match.end() :].splitlines():
        if line.startswith("#"):
            break
        if step := STEP_LINE.match(line):
            found.append(step.group(1).strip())
    return found
