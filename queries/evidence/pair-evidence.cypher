// name: pair-evidence
// description: The sentences, with their document and date, behind a region's link to a mechanism, measure, indicator, actor, policy or water body; limit = -1 returns every sentence.
// param: region: string
// param: target: string
// param: limit: int = 100
// columns: region, relation, target, document, title, date, sentence_index, sentence
MATCH (r:Region)-[rel]->(t)
WHERE (r.key = $region OR r.name = $region) AND t.name = $target
  AND type(rel) IN ['ADOPTS', 'IMPLEMENTS', 'MEASURES', 'ESTABLISHES', 'CITES', 'GOVERNS']
UNWIND rel.evidence AS sentence_id
WITH DISTINCT r, type(rel) AS relation, t, sentence_id
MATCH (s:Sentence {id: sentence_id})
OPTIONAL MATCH (d:Document {doc_key: s.doc_key})
RETURN r.name AS region, relation, t.name AS target, d.name AS document, d.title AS title, d.date AS date,
       s.index AS sentence_index, s.text AS sentence
ORDER BY document, sentence_index, relation
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
