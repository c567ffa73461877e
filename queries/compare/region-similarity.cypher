// name: region-similarity
// description: Pairs of regions ranked by the Jaccard similarity of their mechanism sets, with the shared and the differing mechanisms; limit = -1 returns every pair.
// param: region: string = null
// param: min_shared: int = 1
// param: min_mechanisms: int = 1
// param: limit: int = 50
// columns: region_a, key_a, region_b, key_b, jaccard, shared, only_a, only_b
// Regions with the same mechanism set are grouped first, so the pairwise comparison runs over
// distinct sets (many regions share one), and only the best group pairs are expanded to regions.
MATCH (r:Region)-[:ADOPTS]->(m:Mechanism)
WITH DISTINCT r, m.name AS mechanism
ORDER BY mechanism
WITH r, collect(mechanism) AS mechanisms
WHERE size(mechanisms) >= $min_mechanisms
WITH mechanisms, collect(r) AS members
WITH collect({mechanisms: mechanisms, members: members}) AS groups
UNWIND range(0, size(groups) - 1) AS i
UNWIND range(i, size(groups) - 1) AS j
WITH groups[i] AS ga, groups[j] AS gb, i = j AS same
WHERE (NOT same OR size(ga.members) > 1)
  AND ($region IS NULL OR any(x IN ga.members + gb.members WHERE $region IN [x.key, x.name]))
WITH ga, gb, same, [x IN ga.mechanisms WHERE x IN gb.mechanisms] AS shared
WHERE size(shared) >= $min_shared
WITH ga, gb, same, shared,
     toFloat(size(shared)) / (size(ga.mechanisms) + size(gb.mechanisms) - size(shared)) AS jaccard
ORDER BY jaccard DESC, size(shared) DESC
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
UNWIND range(0, size(ga.members) - 1) AS x
UNWIND CASE WHEN same THEN range(x + 1, size(gb.members) - 1) ELSE range(0, size(gb.members) - 1) END AS y
WITH ga, gb, shared, jaccard, ga.members[x] AS p, gb.members[y] AS q
WHERE $region IS NULL OR $region IN [p.key, p.name, q.key, q.name]
WITH CASE WHEN p.key < q.key THEN [p, q, ga.mechanisms, gb.mechanisms] ELSE [q, p, gb.mechanisms, ga.mechanisms] END AS pair,
     shared, jaccard
WITH pair[0] AS a, pair[1] AS b, pair[2] AS set_a, pair[3] AS set_b, shared, jaccard
ORDER BY jaccard DESC, size(shared) DESC, a.key, b.key
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
RETURN a.name AS region_a, a.key AS key_a, b.name AS region_b, b.key AS key_b,
       round(jaccard, 3) AS jaccard, shared,
       [x IN set_a WHERE NOT x IN shared] AS only_a,
       [y IN set_b WHERE NOT y IN shared] AS only_b
