"""People (人员): residents, warned people, victims and members of vulnerable groups."""
