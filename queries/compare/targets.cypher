// name: targets
// description: Indicator values by region and year, targets (到2025年…达到) and actual values side by side, with the document that states each; filter by region, indicator or kind, limit = -1 returns every value.
// param: region: string = null
// param: indicator: string = null
// param: kind: string = null
// param: limit: int = 500
// columns: region, region_key, indicator, kind, year, value, unit, redacted, document
MATCH (r:Region)-[q:MEASURES]->(i:Indicator)
WHERE q.key <> ''
  AND ($region IS NULL OR r.key = $region OR r.name = $region)
  AND ($indicator IS NULL OR i.name = $indicator)
  AND ($kind IS NULL OR q.kind = $kind)
// One document lookup per document, not per value.
WITH q.doc_key AS doc_key, collect([r, q, i]) AS values
OPTIONAL MATCH (d:Document {doc_key: doc_key})
UNWIND values AS v
WITH v[0] AS r, v[1] AS q, v[2] AS i, d
RETURN r.name AS region, r.key AS region_key, i.name AS indicator, q.kind AS kind, q.year AS year,
       q.value AS value, q.unit AS unit, q.redacted AS redacted, d.name AS document
// Stated values first: redacted ones (XX万元) and regions a redacted report hides (XX区@…) after them.
ORDER BY coalesce(q.redacted, false), r.key CONTAINS '@', region_key, indicator, kind DESC, year, value
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
