"""A person's dossier (人员档案): the person with everything that happened to them, read from the domains below."""
