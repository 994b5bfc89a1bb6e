"""Confluence step 1, datagen: what a run works on, per continent.

Lists the SWOT L2_HR_RiverSP granules (SWOT Product Description, JPL D-56413) of
one continent from a local folder, an S3 prefix or a NASA CMR search; keeps those
built on the expected SWORD version (Altenau et al. 2021, doi:10.1029/2021WR030054);
picks the reaches whose SWORD id belongs to the continent; and writes the lists
the later steps fan out over (contracts.md section 4): reaches, reach_node,
s3_list, s3_reach, cycle_passes, passes, basin and the MetroMan / HiVDI /
SIC4DVar reach sets.
"""
