// Indexes on what the query packs filter on, and on Document.name for replacement.
CREATE INDEX document_name IF NOT EXISTS FOR (n:Document) ON (n.name);
CREATE INDEX region_name IF NOT EXISTS FOR (n:Region) ON (n.name);
CREATE INDEX region_level IF NOT EXISTS FOR (n:Region) ON (n.level);
CREATE INDEX mechanism_category IF NOT EXISTS FOR (n:Mechanism) ON (n.category);
CREATE INDEX measure_category IF NOT EXISTS FOR (n:Measure) ON (n.category);
CREATE INDEX sentence_doc IF NOT EXISTS FOR (n:Sentence) ON (n.doc_id);
