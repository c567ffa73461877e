// Full-text search over evidence sentences, with Neo4j's CJK analyzer so that Chinese
// words (检察长) are found inside sentences that have no spaces.
CREATE FULLTEXT INDEX sentence_text IF NOT EXISTS FOR (n:Sentence) ON EACH [n.text]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}};
