// name: region-similarity
// description: Pairs of regions ranked by the Jaccard similarity of their mechanism sets, with the shared and the differing mechanisms.
// param: region: string = null
// param: min_shared: int = 1
// param: limit: int = 50
// columns: region_a, key_a, region_b, key_b, jaccard, shared, only_a, only_b
MATCH (a:Region)-[:ADOPTS]->(m:Mechanism)<-[:ADOPTS]-(b:Region)
WHERE a.key < b.key
  AND ($region IS NULL OR $region IN [a.key, a.name, b.key, b.name])
WITH a, b, collect(m.name) AS shared
WHERE size(shared) >= $min_shared
WITH a, b, shared,
     [(a)-[:ADOPTS]->(x:Mechanism) | x.name] AS set_a,
     [(b)-[:ADOPTS]->(y:Mechanism) | y.name] AS set_b
WITH a, b, shared, set_a, set_b,
     toFloat(size(shared)) / (size(set_a) + size(set_b) - size(shared)) AS jaccard
ORDER BY jaccard DESC, size(shared) DESC, a.key, b.key
LIMIT $limit
RETURN a.name AS region_a, a.key AS key_a, b.name AS region_b, b.key AS key_b,
       round(jaccard, 3) AS jaccard, shared,
       [x IN set_a WHERE NOT x IN shared] AS only_a,
       [y IN set_b WHERE NOT y IN shared] AS only_b
