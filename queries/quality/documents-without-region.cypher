// name: documents-without-region
// description: Documents for which no reporting region was found, so their mechanisms and quantities are attached to no region.
// columns: document, title, date, doc_id
MATCH (d:Document)
WHERE NOT EXISTS { (d)-[:REPORTS_ON]->(:Region) }
RETURN d.name AS document, d.title AS title, d.date AS date, d.doc_id AS doc_id
ORDER BY document
