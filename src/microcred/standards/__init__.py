"""Wire formats and cryptography. Pure: no database, web or network imports."""
