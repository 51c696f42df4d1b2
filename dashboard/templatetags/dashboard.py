"""Template filters of the dashboard."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def message_parts(message) -> tuple[str, list[str]]:
    """A message's first line and its "- " item lines, so a refusal that lists unmet
    criteria renders as a sentence and a list rather than one run-on paragraph."""
    first, *rest = str(message).splitlines() or [""]
    return first, [line.removeprefix("- ").strip() for line in rest if line.strip()]


@register.filter
def metric(value) -> str:
    """A metric value as people read it: four significant digits, "—" when there is none.

    Full precision stays in the ``value`` attribute of the ``<data>`` element around it."""
    if value is None:
        return "—"
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def magnitude(value) -> float | None:
    """The absolute value, for sentences that say "below" or "above" in words."""
    return None if value is None else abs(value)


@register.simple_tag
def health_badge(health: str, label: str) -> str:
    """A project's health as a word and a shape, never as colour alone. A tag rather than
    an include: the portfolio draws it on every row, and an include costs ten times more."""
    return format_html(
        '<span class="health health-{}"><span class="health-icon" aria-hidden="true"></span>{}'
        "</span>",
        health,
        label,
    )
