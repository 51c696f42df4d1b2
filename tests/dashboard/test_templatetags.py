"""The dashboard's template tags, rendered from template text as pages use them."""

import pytest
from django.template import Context, Template, TemplateSyntaxError


def render(text: str, **context) -> str:
    return Template("{% load dashboard %}" + text).render(Context(context))


def test_a_datatable_is_a_named_keyboard_reachable_scroll_region():
    html = render(
        '{% datatable label="Tasks of "|add:name class="runs" %}<tbody></tbody>{% enddatatable %}',
        name="<Data> & more",
    )
    assert html == (
        '<div class="table-scroll" tabindex="0" role="region" '
        'aria-label="Tasks of &lt;Data&gt; &amp; more"><table class="data runs">'
        "<tbody></tbody></table></div>"
    )


def test_a_datatable_can_be_named_by_its_heading_and_widen_its_region():
    html = render(
        '{% datatable labelledby="params-heading" region="metric-table" %}'
        "{{ x }}{% enddatatable %}",
        x="<b>",
    )
    assert html == (
        '<div class="table-scroll metric-table" tabindex="0" role="group" '
        'aria-labelledby="params-heading"><table class="data">&lt;b&gt;</table></div>'
    )


@pytest.mark.parametrize(
    "tag",
    [
        "{% datatable %}",
        '{% datatable label="a" labelledby="b" %}',
        '{% datatable caption="a" %}',
        '{% datatable "a" %}',
    ],
)
def test_a_datatable_must_be_named_once(tag):
    with pytest.raises(TemplateSyntaxError, match="datatable takes"):
        render(tag + "{% enddatatable %}")


@pytest.mark.parametrize(
    ("logged", "cell"),
    [
        ("0.066131244126204", '<td class="param" title="0.066131244126204">0.06613</td>'),
        ("lightgbm", '<td class="param">lightgbm</td>'),
        ("temporal_fusion_transformer", '<td class="param">temporal_fusion_transformer</td>'),
        ("0.05", '<td class="param">0.05</td>'),
        ("12000000000", '<td class="param">12000000000</td>'),
        ("-Infinity", '<td class="param">-Infinity</td>'),
        ("", '<td class="param">—</td>'),
        (None, '<td class="param">—</td>'),
        ('<b>"x"</b>', '<td class="param">&lt;b&gt;&quot;x&quot;&lt;/b&gt;</td>'),
    ],
)
def test_a_param_cell_shortens_a_long_decimal_and_keeps_what_was_logged(logged, cell):
    assert render("{% param_cell value %}", value=logged) == cell


@pytest.mark.django_db
def test_a_person_is_named_by_their_full_name_else_their_username():
    from tests.factories import UserFactory

    named = UserFactory(username="m.bianchi", first_name="Marco", last_name="<Bianchi>")
    plain = UserFactory(username="ops-bot", first_name="", last_name="")
    assert render("{{ u|person }}", u=named) == "Marco &lt;Bianchi&gt;"
    assert render("{{ u|person }}", u=plain) == "ops-bot"
    assert render("{{ u|person }}", u=None) == "—"
