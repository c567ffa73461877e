// name: region-documents
// description: The documents that report on a region, with their title, date and number of sentences.
// param: region: string
// columns: region, region_key, document, title, date, sentences
MATCH (d:Document)-[:REPORTS_ON]->(r:Region)
WHERE r.key = $region OR r.name = $region
RETURN r.name AS region, r.key AS region_key, d.name AS document, d.title AS title, d.date AS date,
       COUNT { (s:Sentence) WHERE s.doc_key = d.doc_key } AS sentences
ORDER BY date DESC, document
