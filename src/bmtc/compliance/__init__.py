"""Compliance calculators: material-assistance cost ratio, 45X credit, content, defense
procurement and tariffs, each reading dated, cited rule data from `bmtc/data/compliance/`."""
