"""SQL for an article's enrichment rows (entities, quotes, cited sources, amounts, dates
mentioned): replaced as a whole on every (re)processing, in the caller's transaction, so a
redelivery or a re-enrichment never duplicates them.

Each table is filled by one multi-row ``INSERT … SELECT`` from the list of the same name in
the article's stored document (``jsonb_to_recordset``), so the rows are what the document
says and the cost is one statement per table, whatever the number of rows."""

from __future__ import annotations

TABLES = (
    "article_entities",
    "article_quotes",
    "article_cited_sources",
    "article_amounts",
    "article_dates",
)


def from_document(table: str, columns: str, field: str, record: str, select: str) -> str:
    """Child rows from the list ``field`` of the article's stored document; ``position`` is
    the index in the list. ``record`` types the JSON keys, ``select`` maps them to
    ``columns``."""
    names = ", ".join(column.rsplit(" ", 1)[0] for column in record.split(", "))
    return f"""
        INSERT INTO newsflow.{table} (article_id, position, {columns})
        SELECT a.id, r.n - 1, {select}
        FROM newsflow.articles a,
             ROWS FROM (jsonb_to_recordset(a.document -> '{field}') AS ({record}))
                 WITH ORDINALITY AS r({names}, n)
        WHERE a.id = %(id)s
    """


# Shared entity rows first, in key order (byte order, as every writer sorts them): two
# articles naming the same new entities lock them in the same order and cannot deadlock.
INSERT_ENTITIES = """
    INSERT INTO newsflow.entities (key, type, canonical, country_code)
    SELECT e.key, e.type, e.canonical, e.country_code
    FROM newsflow.articles a,
         jsonb_to_recordset(a.document -> 'entities')
             AS e(key text, type text, canonical text, country_code text)
    WHERE a.id = %(id)s
    ORDER BY e.key COLLATE "C"
    ON CONFLICT (key) DO NOTHING
"""

# per article: the distinct surface forms (in code point order), the number of mentions and
# where the first one starts in the body (0 when the title mentions it)
INSERT_ARTICLE_ENTITIES = """
    INSERT INTO newsflow.article_entities
        (article_id, entity_key, canonical, surfaces, mentions, first_offset)
    SELECT a.id, e.key, e.canonical,
           ARRAY(SELECT DISTINCT (m ->> 'text') COLLATE "C"
                 FROM jsonb_array_elements(e.mentions) AS m ORDER BY 1),
           jsonb_array_length(e.mentions),
           coalesce((SELECT min(CASE WHEN m ->> 'field' = 'title' THEN 0
                                     ELSE (m ->> 'start')::int END)
                     FROM jsonb_array_elements(e.mentions) AS m), 0)
    FROM newsflow.articles a,
         jsonb_to_recordset(a.document -> 'entities')
             AS e(key text, canonical text, mentions jsonb)
    WHERE a.id = %(id)s
"""

INSERTS = (
    INSERT_ENTITIES,
    INSERT_ARTICLE_ENTITIES,
    from_document(
        "article_quotes",
        "text, speaker, speaker_role, start_offset, end_offset",
        "quotes",
        'text text, speaker text, speaker_role text, "start" int, "end" int',
        'r.text, r.speaker, r.speaker_role, r."start", r."end"',
    ),
    from_document(
        "article_cited_sources",
        "name, cue, start_offset, end_offset",
        "cited_sources",
        'name text, cue text, "start" int, "end" int',
        'r.name, r.cue, r."start", r."end"',
    ),
    from_document(
        "article_amounts",
        "value, unit, of_what, text, start_offset, end_offset",
        "amounts",
        'value float8, unit text, "of" text, text text, "start" int, "end" int',
        'r.value, r.unit, r."of", r.text, r."start", r."end"',
    ),
    from_document(
        "article_dates",
        "text, date, resolved, start_offset, end_offset",
        "dates_mentioned",
        'text text, date date, resolved bool, "start" int, "end" int',
        'r.text, r.date, r.resolved, r."start", r."end"',
    ),
)
