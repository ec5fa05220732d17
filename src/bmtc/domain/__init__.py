"""Pure domain core: vocabularies, entities, quantities. No I/O."""
