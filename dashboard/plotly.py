"""plotly.js from the installed plotly package, and what a page under a strict CSP needs
beside it.

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

PLOTLY_JS = resources.files("plotly") / "package_data" / "plotly.min.js"
GLOBAL_STYLE_ID = "plotly.js-style-global"
_MAP_STYLE = re.compile(
    rb'getElementById\("([0-9a-f]{64})"\)\)\{var (\w+)=document\.createElement\("style"\)'
)


@functools.cache
def placeholder_ids() -> tuple[str, ...]:
    """Ids of the style elements plotly.js would otherwise create at load, other than the
    global one (which gets a real style sheet)."""
    return tuple(match[1].decode() for match in _MAP_STYLE.finditer(PLOTLY_JS.read_bytes()))
