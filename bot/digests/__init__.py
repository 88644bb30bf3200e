"""Personal weekly digests of the best links in the topics a member follows."""
