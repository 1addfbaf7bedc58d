"""Member units' own work (成员单位): a unit's liaison sees its duty groups' coverage, cases and target lists, and the
lists it sent, within its unit; the centre and the 联席办 see the same page for any unit they oversee."""
