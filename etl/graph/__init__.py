"""The graph: the model records follow, their checks and rows, migrations, the loader and the driver."""
