"""The JSON parser of ``/api/v1/``: DRF's, with the site's depth limit
(:mod:`mlprojects.jsonbodies`), so JSON nested too deep is a 400 in the v1 error shape
(``parse_error``) instead of a ``RecursionError``."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from mlprojects.jsonbodies import TooDeep, check_depth


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            check_depth(data)
        except (RecursionError, TooDeep) as error:
            raise ParseError(f"JSON parse error - {TooDeep()}") from error
        return data
