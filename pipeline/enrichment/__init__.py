"""Enrichment: the pieces the enrich stage is made of, one concern per module.

normalise (lookup keys), clean (boilerplate out, `text_clean`), model (loading spaCy by name), entities (NER mentions),
canonical (alias table, fuzzy matching, capitals used as governments), geo (offline gazetteer),
topics, quotes, figures, dateline (dateline and news agencies), tables (the data files, loaded once).
Every module is pure: data tables and text in, typed values out.
"""
