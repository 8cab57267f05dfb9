"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from luna_narrates.errors import ConfigurationError

# A Unix socket path is limited to 107 bytes on Linux; pgserver puts the socket in the data dir.
SOCKET_PATH_LIMIT = 107
SOCKET_NAME = ".s.PGSQL.5432"


def _import_pgserver() -> Any:
    """pgserver asks platformdirs for a runtime dir it never uses: silence that warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        return pgserver


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the private server under `data_dir` and return its postgresql:// URI."""
    data_dir = data_dir.expanduser().resolve()
    socket = data_dir / SOCKET_NAME
    if len(str(socket).encode()) > SOCKET_PATH_LIMIT:
        raise ConfigurationError(
            f"The embedded database directory {data_dir} is too deep: its Unix socket path would "
            f"exceed {SOCKET_PATH_LIMIT} bytes. Set LUNA_DATA_DIR to a shorter path."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    pgserver = _import_pgserver()

    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return str(server.get_uri())


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stops the server if this process holds its last handle (others keep it running)."""
    _import_pgserver().get_server(data_dir.expanduser().resolve(), cleanup_mode="stop").cleanup()
