"""Pure domain model (microcredentials, awards, pathways, skills, job roles): arrives with the platform issue."""
