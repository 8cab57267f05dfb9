"""Pure readers and writers of the formats we exchange: bytes in, objects out."""
