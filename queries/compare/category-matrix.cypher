// name: category-matrix
// description: Regions × mechanism categories (the nine policy-instrument classes): how many mechanisms of each a region adopts.
// param: level: string = null
// columns: region, region_key, level, category, mechanisms, sentences, names
MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism)
WHERE $level IS NULL OR r.level = $level
// One ADOPTS a document: the sentences of a region and mechanism are summed over its documents.
WITH r, m, sum(size(a.evidence)) AS sentences
WITH r, coalesce(m.category, '未分类') AS category, m, sentences
ORDER BY m.name
RETURN r.name AS region, r.key AS region_key, r.level AS level, category,
       count(m) AS mechanisms, sum(sentences) AS sentences, collect(m.name) AS names
ORDER BY region_key, category
