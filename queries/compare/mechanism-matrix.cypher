// name: mechanism-matrix
// description: Regions × mechanisms: which region adopts which mechanism, with the sentences and documents that say so (one row a cell).
// param: level: string = null
// param: category: string = null
// columns: region, region_key, level, mechanism, category, sentences, documents
MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism)
WHERE ($level IS NULL OR r.level = $level)
  AND ($category IS NULL OR m.category = $category)
// One ADOPTS a document and adoption: a cell sums them.
WITH r, m, sum(size(a.evidence)) AS sentences, count(a) AS documents
RETURN r.name AS region, r.key AS region_key, r.level AS level,
       m.name AS mechanism, coalesce(m.category, '未分类') AS category,
       sentences, documents
ORDER BY region_key, category, mechanism
