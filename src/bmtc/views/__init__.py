"""What the dashboard and the brief show, assembled from the engines as plain records (each
with its sources), with no HTML and no I/O: the same numbers on a page and in a brief."""
