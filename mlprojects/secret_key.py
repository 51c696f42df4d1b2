"""Generate the secret key of `make run` once, in a file only its owner can read.

`make run` serves with debug off, so it needs a real secret key, and the same one on every
start (sessions, password-reset tokens and shared links are signed with it). Run before
Django starts, since the settings read the file: ``python -m mlprojects.secret_key PATH``.
An existing file is left as it is, so a restart keeps everyone signed in.
"""

import os
import secrets
import sys
import tempfile
from pathlib import Path

KEY_BYTES = 50


def ensure_secret_key(path: Path) -> bool:
    """Write a new key to ``path`` unless it exists; True when one was written.

    The key is written whole to a private temporary file (mode 0600, whatever the umask)
    and then linked into place, which fails if the file exists: two starts at once cannot
    both write, and no reader ever sees a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return False
    descriptor, temporary = tempfile.mkstemp(prefix=".secret-key-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(secrets.token_urlsafe(KEY_BYTES))
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
    finally:
        os.unlink(temporary)
    return True


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m mlprojects.secret_key PATH")
    path = Path(argv[0])
    if ensure_secret_key(path):
        print(f"Generated a secret key in {path}.")


if __name__ == "__main__":
    main(sys.argv[1:])
