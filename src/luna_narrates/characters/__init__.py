"""Characters: cards imported, written or generated, their portraits and skills, their place
in stories, and what the Preprocessor reads of them."""
