"""Stories, their branches and their committed turns."""
