// name: search
// description: Full-text search of the evidence sentences (Neo4j's CJK analyzer), best match first, with document and date; limit = -1 returns every match.
// param: text: string
// param: limit: int = 20
// columns: score, document, title, date, sentence_index, sentence
// The text is searched as one phrase: quotes and backslashes, which would end the phrase, become spaces.
CALL db.index.fulltext.queryNodes('sentence_text', '"' + replace(replace($text, '\\', ' '), '"', ' ') + '"')
YIELD node, score
WITH node, score
ORDER BY score DESC, node.id
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
OPTIONAL MATCH (d:Document {doc_key: node.doc_key})
RETURN round(score, 3) AS score, d.name AS document, d.title AS title, d.date AS date,
       node.index AS sentence_index, node.text AS sentence
