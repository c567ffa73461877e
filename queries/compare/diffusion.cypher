// name: diffusion
// description: Adoption over time: per mechanism and year, the regions whose texts say they adopted it that year (their earliest stated year) and the cumulative number of adopting regions by the end of it; adopters whose texts state no year come last, in one row with year null (never given a year).
// param: mechanism: string = null
// columns: mechanism, category, year, adopters, new_regions, regions
// A region's year is the earliest its documents state (one ADOPTS per document and assertion, or
// one per region and mechanism: min() reads both, and is null when no document states one).
MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism)
WHERE $mechanism IS NULL OR m.name = $mechanism
WITH m, r, min(a.year) AS first_year
ORDER BY r.key
WITH m, first_year, collect(r.name) AS adopters
// Ascending order puts the null year (no stated year) last, so its row's count is every adopter.
ORDER BY first_year
WITH m, collect({year: first_year, adopters: adopters}) AS steps
UNWIND range(0, size(steps) - 1) AS i
WITH m, i, steps[i] AS step, reduce(n = 0, s IN steps[0..i + 1] | n + size(s.adopters)) AS regions
RETURN m.name AS mechanism, coalesce(m.category, '未分类') AS category, step.year AS year,
       step.adopters AS adopters, size(step.adopters) AS new_regions, regions
ORDER BY mechanism, i
