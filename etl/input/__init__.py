"""Input stage: files in, normalized text and sentences out (read → normalize → segment, with dates)."""
