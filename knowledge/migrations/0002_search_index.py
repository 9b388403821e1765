"""The database's own full-text index over knowledge_searchdoc: FTS5 on SQLite, a GIN tsvector on PostgreSQL."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(title_terms, body_terms, content='knowledge_searchdoc', "
    "content_rowid='article_id', tokenize='unicode61')",
    "CREATE TRIGGER knowledge_searchdoc_ai AFTER INSERT ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_fts(rowid, title_terms, body_terms) VALUES (new.article_id, new.title_terms, new.body_terms); "
    "END",
    "CREATE TRIGGER knowledge_searchdoc_ad AFTER DELETE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title_terms, body_terms) "
    "VALUES ('delete', old.article_id, old.title_terms, old.body_terms); END",
    "CREATE TRIGGER knowledge_searchdoc_au AFTER UPDATE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_fts(knowledge_fts, rowid, title_terms, body_terms) "
    "VALUES ('delete', old.article_id, old.title_terms, old.body_terms); "
    "INSERT INTO knowledge_fts(rowid, title_terms, body_terms) VALUES (new.article_id, new.title_terms, new.body_terms); "
    "END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER knowledge_searchdoc_au",
    "DROP TRIGGER knowledge_searchdoc_ad",
    "DROP TRIGGER knowledge_searchdoc_ai",
    "DROP TABLE knowledge_fts",
]
POSTGRESQL = [
    "ALTER TABLE knowledge_searchdoc ADD COLUMN doc tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('simple', title_terms), 'A') || setweight(to_tsvector('simple', body_terms), 'B')) STORED",
    "CREATE INDEX knowledge_searchdoc_doc ON knowledge_searchdoc USING gin (doc)",
]
POSTGRESQL_REVERSE = ["ALTER TABLE knowledge_searchdoc DROP COLUMN doc"]


def run(statements: dict):
    def apply(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        )
    ]
