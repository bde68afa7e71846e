"""rr-sqlalchemy: ReactiveRecord's SQL store (SQLite, PostgreSQL, MariaDB/MySQL).

Installed, it opens ``sqlite://``, ``postgresql://`` and ``mysql://`` / ``mariadb://``
database URLs through the ``rr_open_store`` hook; nothing needs importing.
"""

from .store import SqlStore, SqlTransaction

__all__ = ["SqlStore", "SqlTransaction"]
