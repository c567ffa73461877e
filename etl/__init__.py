"""govgraph: Chinese local-government reports on water and soil governance, as a Neo4j graph.

The packages, in the order data flows: input (read → normalize → segment, dates) → extract
(the spaCy pipeline, region resolution, assembly into records) → graph (the model records
follow, migrations, load) → outputs (query packs, report, network page, exports, Browser);
research (corrections, review) works on records between extraction and loading; neo4j is the
embedded server. run.py is the main job as one call; cli.py only parses and prints.
"""

__version__ = "0.1.0"
