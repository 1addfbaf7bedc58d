"""Cases (立案): the register of filed fraud cases, linked to people and so to their warnings."""
