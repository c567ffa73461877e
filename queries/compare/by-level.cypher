// name: by-level
// description: The mechanism mix compared across administrative levels (省级, 市级, 县级 for counties and districts, 乡镇级 with 街道, 村级 with 社区): share of adoptions per category.
// columns: level, category, mechanisms, regions, adoptions, share
// One row a region and mechanism, however many documents report the adoption.
MATCH (r:Region)-[:ADOPTS]->(m:Mechanism)
WITH DISTINCT r, m
WITH CASE r.level
       WHEN '省' THEN '省级' WHEN '市' THEN '市级' WHEN '县' THEN '县级' WHEN '区' THEN '县级'
       WHEN '旗' THEN '县级' WHEN '县区' THEN '县级' WHEN '镇' THEN '乡镇级' WHEN '乡' THEN '乡镇级'
       WHEN '街道' THEN '乡镇级' WHEN '村' THEN '村级' WHEN '社区' THEN '村级'
       ELSE coalesce(r.level, '未知') END AS level,
     coalesce(m.category, '未分类') AS category, r, m
WITH level, category, count(*) AS adoptions, count(DISTINCT r) AS regions, count(DISTINCT m) AS mechanisms
WITH level, collect({category: category, adoptions: adoptions, regions: regions, mechanisms: mechanisms}) AS cells,
     sum(adoptions) AS total
UNWIND cells AS cell
WITH level, cell, total,
     ['省级', '市级', '县级', '乡镇级', '村级'] AS order
RETURN level, cell.category AS category, cell.mechanisms AS mechanisms, cell.regions AS regions,
       cell.adoptions AS adoptions, round(toFloat(cell.adoptions) / total, 3) AS share
ORDER BY coalesce([i IN range(0, size(order) - 1) WHERE order[i] = level][0], size(order)), share DESC, category
