"""宣防: prevention campaigns, activities from the field, coverage against targets, 无诈社区 and knowledge tests."""
