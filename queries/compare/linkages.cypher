// name: linkages
// description: Every linkage mechanism written “A+B(+C…)” (河长+检察长, 河长+警长 …): the actors it joins and the regions that use it, the most used first; limit = -1 returns every linkage.
// param: limit: int = 100
// columns: linkage, category, actors, regions, region_count, sentences
MATCH (m:Mechanism)
WHERE m.name CONTAINS '+'
CALL {
  WITH m
  OPTIONAL MATCH (m)-[:INVOLVES]->(x:Actor)
  WITH x ORDER BY x.name
  RETURN collect(DISTINCT x.name) AS actors
}
CALL {
  WITH m
  OPTIONAL MATCH (r:Region)-[a:ADOPTS]->(m)
  WITH r, a ORDER BY r.key
  RETURN collect(DISTINCT r.name) AS regions, count(DISTINCT r) AS region_count,
         sum(size(coalesce(a.evidence, []))) AS sentences
}
RETURN m.name AS linkage, coalesce(m.category, '未分类') AS category, actors, regions, region_count, sentences
ORDER BY region_count DESC, linkage
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
