"""govgraph: Chinese local-government reports on water and soil governance, as a Neo4j graph.

The stages, in the order data flows: read → normalize → segment → extract → resolve →
records → load → queries / export / report. Each is a module of this package.
"""

__version__ = "0.1.0"
