// Documents are keyed by their path relative to the corpus root (identical content under two
// paths is two documents, so the content hash doc_id is no longer unique), and everything a
// document asserts carries its doc_key: one relationship per document and assertion. These
// indexes let a load find, and a new version take out, exactly one document's data.
// A graph loaded before this migration holds relationships shared by documents (docs lists):
// the loader refuses it until it is emptied and loaded again (README, Loading).
DROP CONSTRAINT document_doc_id IF EXISTS;
DROP INDEX sentence_doc IF EXISTS;
CREATE CONSTRAINT document_path IF NOT EXISTS FOR (n:Document) REQUIRE n.path IS UNIQUE;
CREATE CONSTRAINT document_doc_key IF NOT EXISTS FOR (n:Document) REQUIRE n.doc_key IS UNIQUE;
CREATE INDEX document_doc_id IF NOT EXISTS FOR (n:Document) ON (n.doc_id);
CREATE INDEX sentence_doc_key IF NOT EXISTS FOR (n:Sentence) ON (n.doc_key);
CREATE INDEX region_doc_key IF NOT EXISTS FOR (n:Region) ON (n.doc_key);
CREATE INDEX part_of_doc_key IF NOT EXISTS FOR ()-[r:PART_OF]-() ON (r.doc_key);
CREATE INDEX adopts_doc_key IF NOT EXISTS FOR ()-[r:ADOPTS]-() ON (r.doc_key);
CREATE INDEX implements_doc_key IF NOT EXISTS FOR ()-[r:IMPLEMENTS]-() ON (r.doc_key);
CREATE INDEX involves_doc_key IF NOT EXISTS FOR ()-[r:INVOLVES]-() ON (r.doc_key);
CREATE INDEX establishes_doc_key IF NOT EXISTS FOR ()-[r:ESTABLISHES]-() ON (r.doc_key);
CREATE INDEX measures_doc_key IF NOT EXISTS FOR ()-[r:MEASURES]-() ON (r.doc_key);
CREATE INDEX governs_doc_key IF NOT EXISTS FOR ()-[r:GOVERNS]-() ON (r.doc_key);
CREATE INDEX cites_doc_key IF NOT EXISTS FOR ()-[r:CITES]-() ON (r.doc_key);
