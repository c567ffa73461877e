"""Outputs over the loaded graph or records: query packs, the report, the network page, exports, Browser."""
