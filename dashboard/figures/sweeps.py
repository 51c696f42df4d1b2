"""Figures of a sweep: the best score of the trials up to each trial number, and Optuna's
parameter importances. Pure: plain data in, a Plotly figure as dicts out."""

from collections.abc import Mapping, Sequence

from dashboard.figures.base import GRID, MUTED, PALETTE, Figure, _figure, _layout, _text


def best_so_far(
    points: Sequence[tuple[int, float]], *, metric: str, maximize: bool, values=()
) -> Figure:
    """The best objective of the trials numbered up to each one as a step line (``points``:
    (number, best so far), in number order, so the line never goes back on itself), and
    each trial's own score as a dot (``values``: (number, value) of the trials that
    scored), so a reader sees both how the search converged and how spread its trials were.
    """
    data = []
    if values:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "trial",
                "x": [number for number, _ in values],
                "y": [value for _, value in values],
                "marker": {"color": PALETTE[4], "size": 7, "opacity": 0.7},
                "hovertemplate": f"trial %{{x}}<br>{_text(metric)} %{{y:.4g}}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "line": {"shape": "hv", "color": PALETTE[0], "width": 2.5},
            "marker": {"size": 5},
            "name": f"best so far ({'highest' if maximize else 'lowest'})",
            "x": [number for number, _ in points],
            "y": [value for _, value in points],
            "hovertemplate": (
                f"trials 0 to %{{x}}<br>best {_text(metric)} %{{y:.4g}}<extra></extra>"
            ),
        }
    )
    layout = _layout(
        height=320,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        xaxis={"title": {"text": "trial number"}, "gridcolor": GRID, "zeroline": False},
        yaxis={"title": {"text": _text(metric)}, "gridcolor": GRID, "zeroline": False},
    )
    return _figure(data, layout)


def importances(values: Mapping[str, float]) -> Figure:
    """Importances as horizontal bars, the most important on top, each labelled with its share."""
    ordered = sorted(values.items(), key=lambda item: item[1])
    names = [_text(name) for name, _ in ordered]
    shares = [round(value, 4) for _, value in ordered]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": shares,
        "y": names,
        "text": [f"{share:.0%}" for share in shares],
        "textposition": "auto",
        "marker": {"color": PALETTE[0]},
        "hovertemplate": "%{y}: %{x:.1%} of the explained variance<extra></extra>",
    }
    layout = _layout(
        height=max(160, 60 + 34 * len(names)),
        margin={"l": 130, "r": 20, "t": 20, "b": 40},
        xaxis={
            "title": {"text": "importance (fANOVA)"},
            "tickformat": ".0%",
            "gridcolor": GRID,
            "range": [0, max(shares, default=1) * 1.1 or 1],
        },
        yaxis={"automargin": True, "tickfont": {"color": MUTED}},
        showlegend=False,
    )
    return _figure([trace], layout)
