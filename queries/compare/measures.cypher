// name: measures
// description: Per region, the measures it implements with their quantities standardized (area in 公顷, money in 元); redacted quantities counted apart; limit = -1 returns every row.
// param: region: string = null
// param: category: string = null
// param: limit: int = 500
// columns: region, region_key, measure, category, kind, year, unit, total, reported, redacted, sentences
MATCH (r:Region)-[i:IMPLEMENTS]->(m:Measure)
WHERE ($region IS NULL OR r.key = $region OR r.name = $region)
  AND ($category IS NULL OR m.category = $category)
WITH r, m, collect(i) AS rels
WITH r, m, [x IN rels WHERE x.key <> ''] AS quantities,
     reduce(n = 0, x IN rels | n + size(x.evidence)) AS sentences
UNWIND CASE WHEN quantities = [] THEN [null] ELSE quantities END AS q
WITH r, m, sentences, q.kind AS kind, q.year AS year, coalesce(q.unit_std, q.unit) AS unit,
     sum(CASE WHEN q.redacted = false THEN coalesce(q.value_std, q.value) END) AS total,
     count(CASE WHEN q.redacted = false AND q.value IS NOT NULL THEN 1 END) AS reported,
     count(CASE WHEN q.redacted = true THEN 1 END) AS redacted
RETURN r.name AS region, r.key AS region_key, m.name AS measure, coalesce(m.category, '未分类') AS category,
       kind, year, unit, CASE WHEN reported = 0 THEN null ELSE round(total, 2) END AS total,
       reported, redacted, sentences
ORDER BY region_key, category, measure, kind, year
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
