"""Confluence step 2, combine_data: the per-continent datagen lists merged into global ones.

Lists are concatenated in the continent order of continent.json (af, as, eu,
na, oc, sa) and dicts merged (contracts.md section 4).  A list longer than an
AWS Batch array job can hold (10,000 children) is also written in numbered
chunks ``{name}_{k}.json`` so each chunk can be one array job.
"""
