// name: chief-hierarchy
// description: Per region, the river, lake and forest chiefs it established, by level (总/省级/市级/县级/区级/乡镇级/村级), with their counts where the text gives them; limit = -1 returns every row.
// param: region: string = null
// param: limit: int = 500
// param: chiefs: list = 河长,湖长,河湖长,林长,田长,湾长,滩长
// param: levels: list = 总,副总,第一,省级,市级,县级,区级,乡镇级,乡级,镇级,村级
// columns: region, region_key, chief, level, count, sentences
MATCH (r:Region)-[e:ESTABLISHES]->(a:Actor)
WHERE any(c IN $chiefs WHERE a.name ENDS WITH c)
  AND ($region IS NULL OR r.key = $region OR r.name = $region)
// One ESTABLISHES a document: counts and sentences gathered over the documents (the largest count).
WITH r, a, max(e.count) AS count, sum(size(e.evidence)) AS sentences
WITH r, a, count, sentences, [p IN $levels WHERE a.name STARTS WITH p] AS prefixes
WITH r, a, count, sentences, CASE WHEN prefixes = [] THEN '' ELSE prefixes[0] END AS level
WITH r, a, count, sentences, level,
     [i IN range(0, size($levels) - 1) WHERE $levels[i] = level] + [size($levels)] AS rank
RETURN r.name AS region, r.key AS region_key, a.name AS chief, level,
       count, sentences
ORDER BY region_key, rank[0], chief
LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END
