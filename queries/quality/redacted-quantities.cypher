// name: redacted-quantities
// description: Per document, how many of its quantities are redacted (X座, XX万元, 202X年) and kept with no value.
// columns: document, region, quantities, redacted, share
MATCH (d:Document)
OPTIONAL MATCH (d)-[:REPORTS_ON]->(r:Region)-[q:MEASURES|IMPLEMENTS]->()
WHERE q.doc_key = d.doc_key AND q.key <> ''
WITH d, r, count(q) AS quantities, count(CASE WHEN q.redacted = true THEN 1 END) AS redacted
RETURN d.name AS document, r.name AS region, quantities, redacted,
       CASE WHEN quantities = 0 THEN null ELSE round(toFloat(redacted) / quantities, 3) END AS share
ORDER BY redacted DESC, document
