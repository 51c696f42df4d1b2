"""Template filters of the dashboard."""

from django import template
from django.template.base import token_kwargs
from django.utils.html import format_html

from dashboard import plotly
from mlprojects.people import display_name

register = template.Library()


@register.inclusion_tag("dashboard/_plotly_styles.html")
def plotly_styles(bundle: str) -> dict:
    """What the page must hold before the plotly.js ``bundle`` runs, so that it adds no
    inline style."""
    return {"global_id": plotly.GLOBAL_STYLE_ID, "placeholder_ids": plotly.placeholder_ids(bundle)}


@register.simple_tag
def plotly_path(bundle: str) -> str:
    """The static path of the plotly.js ``bundle`` (a name of ``plotly.BUNDLES``), for
    ``{% static %}``."""
    return plotly.bundle(bundle).static_path


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
def person(user) -> str:
    """How pages name a person: their full name, else their username
    (``mlprojects.people.display_name``)."""
    return display_name(user)


@register.simple_tag
def param_cell(value) -> str:
    """A param's table cell. Params are text as logged; a long decimal (a sampled
    ``0.066131244126204``) reads as four significant digits, with the logged text in the
    cell's title, so a column of them stays narrow. "—" when the run has none."""
    text = "" if value is None else str(value)
    if not text:
        return format_html('<td class="param">{}</td>', "—")
    short = _short_number(text)
    if short == text:
        return format_html('<td class="param">{}</td>', text)
    return format_html('<td class="param" title="{}">{}</td>', text, short)


def _short_number(text: str) -> str:
    if len(text) <= 8:
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")) or number == int(number):
        return text
    return f"{number:.4g}"


@register.filter
def minutes(duration) -> int:
    """A ``timedelta`` in whole minutes, at least one."""
    return max(int(duration.total_seconds() // 60), 1)


@register.filter
def duration(value) -> str:
    """A ``timedelta`` as people say it: 42 s, 3 min 5 s, 2 h 10 min, 3 d 4 h."""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def index(sequence, position: int):
    """``sequence[position]``, for tables whose cells line up with a list of columns."""
    return sequence[position]


@register.filter
def get(mapping, key):
    """``mapping[key]``, or ``None`` when it has no such key."""
    return mapping.get(key)


@register.filter
def magnitude(value) -> float | None:
    """The absolute value, for sentences that say "below" or "above" in words."""
    return None if value is None else abs(value)


def _sorting_header(
    query, label: str, extra_class: str, *, ascending: bool, descending: bool
) -> str:
    """A column header linking to ``query`` (back on the first page), with the table's
    current order in ``aria-sort`` for screen readers and as an arrow for the eye."""
    query.pop("page", None)
    state = "ascending" if ascending else "descending" if descending else "none"
    arrow = "▲" if ascending else "▼" if descending else ""
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a class="sort" href="?{}">{}'
        '<span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        extra_class,
        state,
        query.urlencode(),
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, current: str, extra_class: str = "") -> str:
    """A column header that sorts the table by ``key`` (a second click the other way),
    keeping the page's filters; ``aria-sort`` tells screen readers the current order."""
    ascending = current == key
    descending = current == f"-{key}"
    query = context["request"].GET.copy()
    query["sort"] = f"-{key}" if ascending else key
    return _sorting_header(query, label, extra_class, ascending=ascending, descending=descending)


@register.simple_tag(takes_context=True)
def order_header(context, name: str, label: str, current: str, extra_class: str = "") -> str:
    """A run-list column header that orders by the MLflow clause ``name ASC`` (``DESC``
    first for a metric, where the highest is the usual question), the other way on a
    second click, keeping the search."""
    ascending, descending = current == f"{name} ASC", current == f"{name} DESC"
    first = "DESC" if name.startswith("metrics.") else "ASC"
    then = {"ASC": "DESC", "DESC": "ASC"}[first]
    query = context["request"].GET.copy()
    query["order"] = (
        f"{name} {then if (ascending or descending) and current.endswith(first) else first}"
    )
    return _sorting_header(query, label, extra_class, ascending=ascending, descending=descending)


@register.filter
def metric_title(project, key: str) -> str:
    """The metric ``key`` in plain text: the success metric by its label, others by key."""
    return project.metric_title(key)


@register.simple_tag
def metric_name(project, key: str | None = None) -> str:
    """A metric as people read it: the success metric by its label with the key runs log
    beside it, any other metric (or an unlabelled one) by its key."""
    key = project.success_metric if key is None else key
    if key and key == project.success_metric and project.success_metric_label:
        return format_html(
            '{} <span class="metric-key">(<code>{}</code>)</span>',
            project.success_metric_label,
            key,
        )
    return format_html("<code>{}</code>", key)


@register.simple_tag
def column_name(project, name: str) -> str:
    """A column the runs list can show (``metrics.<key>`` or ``params.<key>``) as people
    read it: the success metric's by its label with the column's name beside it, any other
    by its name."""
    kind, _, key = name.partition(".")
    if kind == "metrics" and key == project.success_metric and project.success_metric_label:
        return format_html(
            '{} <span class="metric-key">(<code>{}</code>)</span>',
            project.success_metric_label,
            name,
        )
    return format_html("<code>{}</code>", name)


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


class _DataTable(template.Node):
    def __init__(self, nodelist: template.NodeList, options: dict) -> None:
        self.nodelist = nodelist
        self.options = options

    def render(self, context) -> str:
        given = {name: value.resolve(context) for name, value in self.options.items()}
        if ("label" in given) == ("labelledby" in given):
            raise template.TemplateSyntaxError("datatable takes label or labelledby, not both")
        # A table named by the heading of its section is a group, not a second landmark of
        # the same name as the section around it.
        name = (
            format_html('role="region" aria-label="{}"', given["label"])
            if "label" in given
            else format_html('role="group" aria-labelledby="{}"', given["labelledby"])
        )
        region = " ".join(["table-scroll", given.get("region", "")]).strip()
        table = " ".join(["data", given.get("class", "")]).strip()
        return format_html(
            '<div class="{}" tabindex="0" {}><table class="{}">{}</table></div>',
            region,
            name,
            table,
            self.nodelist.render(context),
        )


_DATATABLE_OPTIONS = frozenset({"label", "labelledby", "class", "region"})


@register.tag
def datatable(parser, token):
    """``{% datatable label="…" class="…" %}<thead>…</tbody>{% enddatatable %}``: a data table
    in a region that scrolls sideways on a narrow screen, which keyboard users can reach
    (``tabindex``) and screen readers name (``label``, or ``labelledby`` the id of the
    heading that names it). ``class`` adds classes to the table, ``region`` to the region."""
    bits = token.split_contents()
    options = token_kwargs(bits[1:], parser)
    if len(options) != len(bits) - 1 or not set(options) <= _DATATABLE_OPTIONS:
        raise template.TemplateSyntaxError(
            "datatable takes label= or labelledby=, and optionally class= and region="
        )
    nodelist = parser.parse(("enddatatable",))
    parser.delete_first_token()
    return _DataTable(nodelist, options)
