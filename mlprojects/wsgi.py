"""WSGI entry point, served by gunicorn in production and by `make run`.

Django reads a request body only as far as its ``Content-Length``, so a body sent in chunks
(``Transfer-Encoding: chunked``, no length) would reach every view as empty. gunicorn
de-chunks such bodies and says so (``wsgi.input_terminated``); the application is wrapped
so that it then reads the body whole, up to the size the path accepts, into a spooled file
with a length. Where the server cannot de-chunk (the development server), the body is
left alone and the API refuses it with 411 (``api.middleware``).
"""

import os
import tempfile
from collections.abc import Iterable

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlprojects.settings")

CHUNK = 1 << 20


class _ClosingBody:
    """The response, which also closes the spooled request body when the server is done."""

    def __init__(self, response: Iterable[bytes], spool) -> None:
        self.response = response
        self.spool = spool

    def __iter__(self):
        return iter(self.response)

    def close(self) -> None:
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.spool.close()


class ReadChunkedBodies:
    def __init__(self, application) -> None:
        # Imported once Django is set up, which making the application does.
        from django.conf import settings

        from api.middleware import body_limit, length_unknown

        self.application = application
        self.body_limit = body_limit
        self.length_unknown = length_unknown
        self.in_memory = settings.FILE_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, environ, start_response):
        if not (self.length_unknown(environ) and environ.get("wsgi.input_terminated")):
            return self.application(environ, start_response)
        # One byte past the limit is enough to know the body is too large: the API then
        # answers 413 from the length, as it does for a body that announced it.
        limit = self.body_limit(environ.get("PATH_INFO", "")) + 1
        spool = tempfile.SpooledTemporaryFile(max_size=self.in_memory)  # noqa: SIM115 (closed with the response)
        source, size = environ["wsgi.input"], 0
        while size < limit and (chunk := source.read(min(CHUNK, limit - size))):
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        environ["wsgi.input"] = spool
        environ["CONTENT_LENGTH"] = str(size)
        del environ["HTTP_TRANSFER_ENCODING"]
        return _ClosingBody(self.application(environ, start_response), spool)


application = ReadChunkedBodies(get_wsgi_application())
