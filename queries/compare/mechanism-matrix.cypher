// name: mechanism-matrix
// description: Regions × mechanisms: which region adopts which mechanism, with the sentences and documents that say so (one row a cell), the best-attested cells first; limit = -1 returns every cell.
// param: level: string = null
// param: category: string = null
// param: limit: int = 500
// columns: region, region_key, level, mechanism, category, sentences, documents
MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism)
WHERE ($level IS NULL OR r.level = $level)
  AND ($category IS NULL OR m.category = $category)
// One ADOPTS a document and adoption: a cell sums them.
WITH r, m, sum(size(a.evidence)) AS sentences, count(a) AS documents
RETURN r.name AS region, r.key AS region_key, r.level AS level,
       m.name AS mechanism, coalesce(m.category, '未分类') AS category,
       sentences, documents
ORDER BY documents DESC, sentences DESC, region_key, category, mechanism
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
