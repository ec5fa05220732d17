"""Adapters between files and the domain: readers, writers, the NAATBatt layout."""
