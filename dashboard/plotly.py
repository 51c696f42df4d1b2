"""plotly.js from the installed plotly package, and what a page under a strict CSP needs
beside it.

The bundle is a static file like the site's own (:class:`PlotlyFinder`), so
``collectstatic`` hashes its name (browsers cache it for a year) and WhiteNoise serves it
pre-compressed (brotli and gzip, made once at collect time rather than per request). It is
the plotly package's only bundle: no installed package ships a partial one, so pages load it
only when they hold a chart (``static/js/charts.js`` adds it then).

When it loads, plotly.js adds its style rules to the page through ``<style>`` elements it
creates, which a Content-Security-Policy of ``style-src 'self'`` refuses (with a console
error each time). It skips that work when the page already holds an element of the same id:

- ``plotly.js-style-global``: plotly puts its rules into that element's style sheet through
  the CSSOM, which the CSP allows. The page links an empty style sheet of this site under
  that id (``static/css/plotly-rules.css``), so the rules land there.
- the maplibre style element (maps, which no page draws): a placeholder of its id is
  enough. The id is read from the installed bundle, since it changes between releases.
"""

import functools
import re
from importlib import resources
from importlib.metadata import version

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PACKAGE_DATA = resources.files("plotly") / "package_data"
PLOTLY_JS = PACKAGE_DATA / "plotly.min.js"
# The package's version is in the path, so a new release is a new URL even where names are
# not hashed (``make dev``).
STATIC_PREFIX = f"vendor/plotly-{version('plotly')}"
STATIC_PATH = f"{STATIC_PREFIX}/plotly.min.js"
GLOBAL_STYLE_ID = "plotly.js-style-global"
_MAP_STYLE = re.compile(
    rb'getElementById\("([0-9a-f]{64})"\)\)\{var (\w+)=document\.createElement\("style"\)'
)


@functools.cache
def placeholder_ids() -> tuple[str, ...]:
    """Ids of the style elements plotly.js would otherwise create at load, other than the
    global one (which gets a real style sheet)."""
    return tuple(match[1].decode() for match in _MAP_STYLE.finditer(PLOTLY_JS.read_bytes()))


class PlotlyFinder(BaseFinder):
    """Finds ``plotly.min.js`` of the installed package, and nothing else of its data (the
    package also holds data sets and a widget bundle that no page uses)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PACKAGE_DATA))
        self.storage.prefix = STATIC_PREFIX

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path != STATIC_PATH:
            return [] if find_all else None
        found = str(PLOTLY_JS)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        yield PLOTLY_JS.name, self.storage
