"""Enrichment: the pieces the enrich stage is made of, one concern per module.

normalise (lookup keys), clean (boilerplate out, `text_clean`; clean_neighbours: passes over a line's neighbours,
links boxes, short unfinished lines; clean_stamps: time stamps), model (loading spaCy by name), entities (NER
mentions), canonical (alias table, fuzzy matching, capitals used as governments), geo (offline gazetteer), topics,
quotes (quote_plain: forms read without the parser, quote_parse: the parser's reading, quote_actors: countries that
speak, quote_borrowed: words brought in as somebody's, quote_reader/referents: whom a pronoun or title means),
figures, dateline (dateline and news agencies), tables (the data files, loaded once).
Every module is pure: data tables and text in, typed values out.
"""
