"""Create the PostgreSQL database named in DATABASE_URL if it does not exist yet (SQLite needs nothing)."""

import os
import sys

import dj_database_url


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return 0
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"] or None, "port": cfg["PORT"] or None, "user": cfg["USER"] or None}
    if cfg["PASSWORD"]:
        params["password"] = cfg["PASSWORD"]
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
                print(f"» 已创建数据库 {cfg['NAME']}")
    except psycopg.OperationalError as exc:
        print(f"无法连接 PostgreSQL（{url}）：{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
