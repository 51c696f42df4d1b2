"""Template filters of the dashboard."""

from django import template

register = template.Library()


@register.filter
def message_parts(message) -> tuple[str, list[str]]:
    """A message's first line and its "- " item lines, so a refusal that lists unmet
    criteria renders as a sentence and a list rather than one run-on paragraph."""
    first, *rest = str(message).splitlines() or [""]
    return first, [line.removeprefix("- ").strip() for line in rest if line.strip()]
