// Uniqueness constraints on the key of every label (shared ONTOLOGY.md).
// Named regions are keyed by name; anonymized ones (XX区) by name@doc_id, since an
// anonymized region is a different place in every document.
CREATE CONSTRAINT document_doc_id IF NOT EXISTS FOR (n:Document) REQUIRE n.doc_id IS UNIQUE;
CREATE CONSTRAINT sentence_id IF NOT EXISTS FOR (n:Sentence) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT region_key IF NOT EXISTS FOR (n:Region) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT actor_name IF NOT EXISTS FOR (n:Actor) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT mechanism_name IF NOT EXISTS FOR (n:Mechanism) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT measure_name IF NOT EXISTS FOR (n:Measure) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT waterbody_name IF NOT EXISTS FOR (n:WaterBody) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT indicator_name IF NOT EXISTS FOR (n:Indicator) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT policy_name IF NOT EXISTS FOR (n:Policy) REQUIRE n.name IS UNIQUE;
