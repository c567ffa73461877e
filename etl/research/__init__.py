"""A researcher's own work on the records: corrections that persist and the review that proposes them."""
