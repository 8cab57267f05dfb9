"""The character writer: drafts a character card from a name and an idea, or rewrites one
section of a card. Runs outside turns, on the Writer's model."""
