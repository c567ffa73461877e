"""Export stage: the graph as NetworkX, its projections, and files for other tools.

``etl.outputs.export.graph`` builds one MultiDiGraph from Neo4j or straight from records.jsonl,
derives the Region–Mechanism, Actor–Actor and Region–Region projections, and writes
GraphML, GEXF or node-link JSON.
"""
