// name: category-matrix
// description: Regions × mechanism categories (the nine policy-instrument classes and 未分类): how many mechanisms of each a region adopts, the largest counts first; limit = -1 returns every cell.
// param: level: string = null
// param: limit: int = 500
// columns: region, region_key, level, category, mechanisms, sentences, names
MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism)
WHERE $level IS NULL OR r.level = $level
// One ADOPTS a document: the sentences of a region and mechanism are summed over its documents.
WITH r, m, sum(size(a.evidence)) AS sentences
WITH r, coalesce(m.category, '未分类') AS category, m, sentences
ORDER BY m.name
RETURN r.name AS region, r.key AS region_key, r.level AS level, category,
       count(m) AS mechanisms, sum(sentences) AS sentences, collect(m.name) AS names
ORDER BY mechanisms DESC, sentences DESC, region_key, category
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
