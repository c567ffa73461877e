// name: diffusion
// description: Adoption over time: per mechanism and year, the regions whose texts say they adopted it that year (their earliest stated year) and the cumulative number of adopting regions by the end of it; adoptions without a stated year are left out.
// param: mechanism: string = null
// columns: mechanism, category, year, adopters, new_regions, regions
// A region's year is the earliest its documents state (one ADOPTS per document and assertion, or
// one per region and mechanism: min() reads both); a region counts once, in that year.
MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism)
WHERE a.year IS NOT NULL AND ($mechanism IS NULL OR m.name = $mechanism)
WITH m, r, min(a.year) AS first_year
ORDER BY r.key
WITH m, first_year, collect(r.name) AS adopters
ORDER BY first_year
WITH m, collect({year: first_year, adopters: adopters}) AS steps
UNWIND range(0, size(steps) - 1) AS i
WITH m, steps[i] AS step, reduce(n = 0, s IN steps[0..i + 1] | n + size(s.adopters)) AS regions
RETURN m.name AS mechanism, coalesce(m.category, '未分类') AS category, step.year AS year,
       step.adopters AS adopters, size(step.adopters) AS new_regions, regions
ORDER BY mechanism, year
