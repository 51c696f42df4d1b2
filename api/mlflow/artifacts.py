"""Run and logged-model artifacts on disk, behind paths no request can steer outside their
owner's own folder.

A run's artifacts live in ``MLPROJECTS_ARTIFACT_ROOT/<project id>/<experiment id>/<run id>/
artifacts/``, a logged model's in ``.../<experiment id>/models/<model id>/artifacts/`` (where
MLflow's server puts them, so the client's URIs map one to one). Every path a client sends
is relative to that folder and is refused unless it is plainly so: no ``..`` or ``.``
segment, no empty segment, no absolute path, no segment that starts like a Windows drive
(``C:``), no backslash, NUL or other control character, no ``;`` or ``#``, and nothing left
to percent-decode once Django has decoded the URL (so ``%2e%2e`` and ``%252e%252e`` are
refused rather than taken for names). Then the resolved real path, symlinks followed, must
still be inside the owner's folder, which stops a symlink planted there from leading out.

Bodies are streamed both ways in chunks; an upload lands in a hidden temporary file beside
its target (named ``.upload-...``, a name no client may use) and is renamed into place only
once every byte the request announced has arrived, so a reader never sees half a file and
a cut-off upload is refused rather than stored short.
"""

import mimetypes
import os
import pathlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from urllib.parse import unquote

from django.http import FileResponse

from api.mlflow.errors import MlflowError, invalid, not_found
from experiments.artifacts import experiment_folder
from registry.models import LoggedModel

CHUNK = 1 << 20
_UPLOAD_PREFIX = ".upload-"
_MAX_PATH = 4096
_MAX_SEGMENT_BYTES = 255
_FORBIDDEN = frozenset("\\;#")
_DRIVE = re.compile(r"[A-Za-z]:")
# Types a browser would run or render as a page; they are sent as opaque bytes instead.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)


def logged_model_folder(model: LoggedModel) -> pathlib.Path:
    """Expects ``model.experiment`` loaded."""
    return experiment_folder(model.experiment) / "models" / model.model_id / "artifacts"


def unsafe(path: str) -> MlflowError:
    return invalid(f"Invalid path: {path!r}")


def clean(path: str | None) -> str:
    """``path`` as plain segments joined by "/", or a refusal; "" names the folder itself."""
    if not path:
        return ""
    if (
        len(path) > _MAX_PATH
        or any(char in _FORBIDDEN or ord(char) < 32 or ord(char) == 127 for char in path)
        or unquote(path) != path
        or path.startswith("/")
        or pathlib.PureWindowsPath(path).drive
    ):
        raise unsafe(path)
    segments = path.removesuffix("/").split("/")
    for segment in segments:
        if (
            segment in ("", ".", "..")
            or segment.startswith(_UPLOAD_PREFIX)
            or _DRIVE.match(segment)
            or len(segment.encode()) > _MAX_SEGMENT_BYTES
        ):
            raise unsafe(path)
    return "/".join(segments)


def _inside(folder: pathlib.Path, relative: str) -> pathlib.Path:
    """The real path of ``relative`` in ``folder``, refused if a symlink leads it outside."""
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(os.path.join(real_folder, relative)) if relative else real_folder
    if real != real_folder and not real.startswith(real_folder + os.sep):
        raise unsafe(relative)
    return pathlib.Path(real)


def listing(folder: pathlib.Path, relative: str) -> list[tuple[str, bool, int | None]]:
    """``(name, is_dir, size)`` of the entries under ``relative``; nothing for a file or a
    missing folder, as MLflow answers. Symlinks are not shown, let alone followed."""
    target = _inside(folder, relative)
    if not target.is_dir():
        return []
    entries = []
    with os.scandir(target) as found:
        for entry in found:
            if entry.is_symlink() or entry.name.startswith(_UPLOAD_PREFIX):
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            size = None if is_dir else entry.stat(follow_symlinks=False).st_size
            entries.append((entry.name, is_dir, size))
    return sorted(entries)


def download(folder: pathlib.Path, relative: str) -> FileResponse:
    """A streamed attachment, never rendered inline, whatever the file holds."""
    if not relative:
        raise invalid("Artifact path refers to a directory, not a file: ''")
    target = _inside(folder, relative)
    if target.is_dir():
        raise invalid(f"Artifact path refers to a directory, not a file: '{relative}'")
    try:
        handle = open(target, "rb")  # noqa: SIM115  (FileResponse closes it when sent)
    except (FileNotFoundError, NotADirectoryError) as error:
        # Not a directory: a folder of the path is a file, so nothing is stored under it.
        raise not_found(f"Artifact '{relative}' does not exist.") from error
    name = relative.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type in _ACTIVE_TYPES:
        content_type = "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response.block_size = CHUNK
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def upload(
    folder: pathlib.Path, relative: str, chunks: Iterator[bytes], *, limit: int, expected: int
) -> int:
    """Write the streamed body to ``relative``; returns its size. Past ``limit`` bytes the
    upload is dropped and refused with 413; a body that ends before the ``expected`` bytes
    (the connection was cut) is dropped and refused, never stored short."""
    if not relative:
        raise invalid("An artifact upload needs a file name.")
    target = _inside(folder, relative)
    if target.is_dir():
        raise invalid(f"Artifact path refers to a directory, not a file: '{relative}'")
    for parent in pathlib.PurePosixPath(relative).parents:
        if str(parent) != "." and (folder / parent).is_file():
            raise invalid(f"Artifact path '{relative}' goes through '{parent}', which is a file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _inside(folder, relative)  # the folders just made are real folders, still inside
    descriptor, temporary = tempfile.mkstemp(prefix=_UPLOAD_PREFIX, dir=target.parent)
    size = 0
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise MlflowError(
                        "INVALID_PARAMETER_VALUE",
                        f"The artifact is larger than the limit of {limit} bytes.",
                        status=413,
                    )
                out.write(chunk)
        if size != expected:
            raise invalid(
                f"The upload of '{relative}' ended after {size} of its {expected} bytes; "
                "nothing was stored."
            )
        os.chmod(temporary, 0o644)  # readable like files Django writes; mkstemp makes 0600
        os.replace(temporary, target)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise
    return size


def delete(folder: pathlib.Path, relative: str) -> None:
    """Remove a file or a folder (the whole run's artifacts when ``relative`` is empty)."""
    target = _inside(folder, relative)
    if not relative:
        if target.is_dir():
            for child in target.iterdir():
                _remove(child)
        return
    if not os.path.lexists(target):
        raise not_found(f"Artifact '{relative}' does not exist.")
    _remove(target)


def _remove(path: pathlib.Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def request_chunks(request) -> Iterator[bytes]:
    """The body of a Django request, read in chunks, never whole."""
    while chunk := request.read(CHUNK):
        yield chunk
