"""Ownership graph screening: who controls an entity, and is it a FEOC or a prohibited
foreign entity under a dated rule set?"""
