"""The embedded Neo4j server that govgraph starts, finds and stops for users without Docker."""
