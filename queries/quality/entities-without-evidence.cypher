// name: entities-without-evidence
// description: Entities that no sentence mentions and no evidence-bearing relationship reaches: candidates for a wrong load or a stale lexicon.
// columns: label, key, name
MATCH (n)
WHERE (n:Region OR n:Actor OR n:Mechanism OR n:Measure OR n:WaterBody OR n:Indicator OR n:Policy)
  AND NOT EXISTS { (:Sentence)-[:MENTIONS]->(n) }
  AND NOT EXISTS { (n)-[r]-() WHERE size(coalesce(r.evidence, [])) > 0 }
RETURN [l IN labels(n) WHERE l <> 'Sentence'][0] AS label, coalesce(n.key, n.name) AS key, n.name AS name
ORDER BY label, key
