"""plotly.js bundles, each page the smallest that draws its charts, and what a page under a
strict CSP needs beside them.

plotly.js ships partial bundles as packages of their own: ``package.json`` pins them, one
plotly.js release for all, and ``make install`` (``npm ci``) puts them in ``node_modules/``.
Each is a static file like the site's own (:class:`PlotlyFinder` finds the bundle's one
dist file, nothing else of ``node_modules``), so ``collectstatic`` hashes its name
(browsers cache it for a year) and WhiteNoise serves it pre-compressed (brotli and gzip,
made once at collect time rather than per request). A page names its bundle where it
includes ``dashboard/_scripts.html`` (``with bundle="basic"``), and loads it only when it
holds a chart (``static/js/charts.js`` adds it then). :data:`BUNDLES` says which traces
each draws; the browser tests check that every page's figures are among them.

When it loads, plotly.js adds its style rules to the page through ``<style>`` elements it
creates, which a Content-Security-Policy of ``style-src 'self'`` refuses (with a console
error each time). It skips that work when the page already holds an element of the same id:

- ``plotly.js-style-global``: plotly puts its rules into that element's style sheet through
  the CSSOM, which the CSP allows. The page links an empty style sheet of this site under
  that id (``static/css/plotly-rules.css``), so the rules land there.
- the maplibre style element (maps, which no page draws; only the full bundle has it): a
  placeholder of its id is enough. The id is read from the installed bundle, since it
  changes between releases.
"""

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
GLOBAL_STYLE_ID = "plotly.js-style-global"
_MAP_STYLE = re.compile(
    rb'getElementById\("([0-9a-f]{64})"\)\)\{var (\w+)=document\.createElement\("style"\)'
)


@dataclass(frozen=True)
class Bundle:
    package: str
    file: str
    # The trace types it registers (its package's README lists them); ``None``: all.
    traces: frozenset[str] | None

    @property
    def folder(self) -> Path:
        return NODE_MODULES / self.package

    @property
    def source(self) -> Path:
        return self.folder / self.file

    @functools.cached_property
    def prefix(self) -> str:
        """Where it is served: its version is in the path, so a new release is a new URL
        even where names are not hashed (``make dev``)."""
        version = json.loads((self.folder / "package.json").read_text())["version"]
        return f"vendor/{self.package}-{version}"

    @property
    def static_path(self) -> str:
        return f"{self.prefix}/{self.file}"

    def draws(self, trace_type: str) -> bool:
        return self.traces is None or trace_type in self.traces


BUNDLES = {
    # Lines and bars: the portfolio, a run, a model version.
    "basic": Bundle(
        "plotly.js-basic-dist-min", "plotly-basic.min.js", frozenset({"bar", "pie", "scatter"})
    ),
    # Those and the success gauge (``indicator``): the status page and its shared link.
    "finance": Bundle(
        "plotly.js-finance-dist-min",
        "plotly-finance.min.js",
        frozenset(
            {"bar", "candlestick", "funnel", "funnelarea", "histogram", "indicator", "ohlc"}
            | {"pie", "scatter", "waterfall"}
        ),
    ),
    # Parallel coordinates (the comparison, a sweep) are in no partial bundle of plotly.js.
    "full": Bundle("plotly.js-dist-min", "plotly.min.js", None),
}


def bundle(name: str) -> Bundle:
    try:
        return BUNDLES[name]
    except KeyError:
        raise ValueError(
            f"no plotly.js bundle {name!r}: a page names one of {', '.join(BUNDLES)}"
        ) from None


@functools.cache
def placeholder_ids(name: str) -> tuple[str, ...]:
    """Ids of the style elements the bundle would otherwise create at load, other than the
    global one (which gets a real style sheet)."""
    return tuple(
        match[1].decode() for match in _MAP_STYLE.finditer(bundle(name).source.read_bytes())
    )


class PlotlyFinder(BaseFinder):
    """Finds each bundle's dist file in ``node_modules/``, and nothing else there (the
    full bundle's package also holds its sources and type declarations)."""

    def check(self, **kwargs) -> list:
        return [
            Error(
                f"{found.source} is missing: the pages that draw charts need it.",
                hint="Install the browser libraries: `make install` (it runs `npm ci`).",
                id="dashboard.E001",
            )
            for found in BUNDLES.values()
            if not found.source.is_file()
        ]

    def find(self, path: str, find_all: bool = False, **kwargs):
        for found in BUNDLES.values():
            if path == found.static_path:
                return [str(found.source)] if find_all else str(found.source)
        return [] if find_all else None

    def list(self, ignore_patterns):
        for found in BUNDLES.values():
            storage = FileSystemStorage(location=str(found.folder))
            storage.prefix = found.prefix
            yield found.file, storage
