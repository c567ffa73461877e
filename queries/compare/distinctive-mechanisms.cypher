// name: distinctive-mechanisms
// description: What a region has that few other regions have: its mechanisms, rarest first, with how many other regions adopt each.
// param: region: string
// param: max_share: float = 0.5
// columns: region, region_key, mechanism, category, other_regions, share, sentences
CALL {
  MATCH (x:Region) WHERE EXISTS { (x)-[:ADOPTS]->(:Mechanism) }
  RETURN count(x) AS adopting
}
MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism)
WHERE r.key = $region OR r.name = $region
// One ADOPTS a document: sentences summed, other regions counted once each.
WITH r, m, adopting, sum(size(a.evidence)) AS sentences
WITH r, m, adopting, sentences, COUNT { MATCH (o:Region)-[:ADOPTS]->(m) WHERE o <> r RETURN DISTINCT o } AS others
WITH r, m, others, sentences,
     CASE WHEN adopting > 1 THEN toFloat(others) / (adopting - 1) ELSE 0.0 END AS share
WHERE share <= $max_share
RETURN r.name AS region, r.key AS region_key, m.name AS mechanism,
       coalesce(m.category, '未分类') AS category, others AS other_regions,
       round(share, 3) AS share, sentences
ORDER BY region_key, other_regions, mechanism
