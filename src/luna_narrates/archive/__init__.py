"""Export and import of whole stories: lossless JSON, and readable books of one branch."""
